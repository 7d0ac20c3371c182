/**
 * DNS settings of STRICT_DNS and LOGICAL_DNS clusters: lookup family, refresh rate (5 s default),
 * failure backoff, TTL-driven refresh, and explicit resolver addresses.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/service_discovery#strict-dns
 */
import { isIP } from 'node:net';
import type { Problems, Proto } from './proto-read.ts';
import { at, bool, durationMs, enumName, has, list, message, obj, text, u32 } from './proto-read.ts';
import { addressString } from '../core/address.ts';

export const LOOKUP_FAMILIES = ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'] as const;
export type LookupFamily = (typeof LOOKUP_FAMILIES)[number];

export interface DnsOptions {
  readonly family: LookupFamily;
  readonly refreshMs: number;
  /** Refresh at the records' TTL instead of `refreshMs` (when DNS reports one). */
  readonly respectTtl: boolean;
  readonly failureBaseMs: number;
  readonly failureMaxMs: number;
  /** Name servers (`ip` or `ip:port`) to ask instead of the system's resolver. */
  readonly resolvers: readonly string[];
}

const DEFAULT_REFRESH_MS = 5000;

function resolverAddress(raw: unknown, path: string, problems: Problems): string | undefined {
  const sa = message(obj(raw) ?? {}, 'socketAddress', path, problems);
  const sp = at(path, 'socketAddress');
  const ip = text(sa, 'address', sp, problems);
  const port = u32(sa, 'portValue', sp, problems) ?? 53;
  if (isIP(ip) === 0) {
    problems.add(at(sp, 'address'), `a DNS resolver must be an IP address (got ${JSON.stringify(ip)})`);
    return undefined;
  }
  return addressString(ip, port);
}

function resolvers(c: Proto, problems: Problems): string[] {
  if (has(c, 'typedDnsResolverConfig')) problems.add('typedDnsResolverConfig', 'typed DNS resolver configs are not supported (use dns_resolution_config)');
  const legacy = list(c, 'dnsResolvers', '', problems).map((r, i) => resolverAddress(r, `dnsResolvers[${i}]`, problems));
  const config = message(c, 'dnsResolutionConfig', '', problems);
  const modern = list(config, 'resolvers', 'dnsResolutionConfig', problems).map((r, i) => resolverAddress(r, `dnsResolutionConfig.resolvers[${i}]`, problems));
  return [...legacy, ...modern].filter((r): r is string => r !== undefined);
}

export function compileDnsOptions(c: Proto, problems: Problems): DnsOptions {
  const refresh = durationMs(c, 'dnsRefreshRate', '', problems) ?? DEFAULT_REFRESH_MS;
  if (refresh <= 1) problems.add('dnsRefreshRate', `must be greater than 1ms (got ${refresh}ms)`);
  const refreshMs = refresh > 1 ? refresh : DEFAULT_REFRESH_MS;
  let failureBaseMs = refreshMs;
  let failureMaxMs = refreshMs;
  if (has(c, 'dnsFailureRefreshRate')) {
    const f = message(c, 'dnsFailureRefreshRate', '', problems);
    const path = 'dnsFailureRefreshRate';
    const base = durationMs(f, 'baseInterval', path, problems);
    if (base === undefined || base <= 1) problems.add(at(path, 'baseInterval'), 'required, greater than 1ms');
    else failureBaseMs = base;
    const max = durationMs(f, 'maxInterval', path, problems) ?? failureBaseMs * 10;
    if (max <= failureBaseMs) problems.add(at(path, 'maxInterval'), `must be greater than base_interval (${max}ms <= ${failureBaseMs}ms)`);
    failureMaxMs = Math.max(max, failureBaseMs);
  }
  return {
    family: enumName(c, 'dnsLookupFamily', LOOKUP_FAMILIES, '', problems),
    refreshMs,
    respectTtl: bool(c, 'respectDnsTtl', '', problems),
    failureBaseMs,
    failureMaxMs,
    resolvers: resolvers(c, problems),
  };
}
