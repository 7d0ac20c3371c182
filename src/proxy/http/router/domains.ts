/**
 * Virtual host selection by the request's authority, as Envoy's `RouteMatcher::findVirtualHost`:
 *   1. an exact domain (`www.foo.com`, `reviews:9080`);
 *   2. the longest suffix wildcard (`*.foo.com`, `*-bar.foo.com`);
 *   3. the longest prefix wildcard (`foo.*`, `foo-*`);
 *   4. the special `*`.
 * Matching is case-insensitive (domains and authority are lower-cased). A wildcard never matches an
 * empty part (`*.foo.com` does not match `.foo.com`). The authority is used as sent, port included, so
 * `reviews:9080` matches the domain `reviews:9080` but not `reviews`; only
 * `ignore_port_in_host_matching` (or the connection manager's `strip_*_host_port`, applied before
 * routing) drops the port. Domains must be unique across the configuration and only one virtual host
 * may have `*`; anything else is a compile problem, as Envoy rejects it.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-virtualhost-domains
 *
 * Lookups are cached per authority string (bounded), so a steady stream of requests for the same
 * hosts costs one map lookup and no lower-casing.
 */
import { portStart } from '../../codec/authority.ts';
import type { Problems } from './proto.ts';

interface Wildcard<T> {
  /** The domain without its `*`, lower-cased. */
  readonly part: string;
  readonly value: T;
}

export interface DomainIndex<T = unknown> {
  readonly exact: ReadonlyMap<string, T>;
  /** Longest first. */
  readonly suffixes: readonly Wildcard<T>[];
  readonly prefixes: readonly Wildcard<T>[];
  readonly fallback: T | undefined;
  readonly ignorePort: boolean;
  readonly cache: Map<string, T | null>;
}

const CACHE_LIMIT = 4096;

/** Builds the index; `domainsOf(i)` are the domains of virtual host `i`, `pathOf(i)` where to report. */
export function buildDomainIndex<T>(hosts: readonly T[], domainsOf: (h: T) => readonly string[], pathOf: (h: T, j: number) => string, ignorePort: boolean, problems: Problems): DomainIndex<T> {
  const exact = new Map<string, T>();
  const suffixes = new Map<string, T>();
  const prefixes = new Map<string, T>();
  let fallback: T | undefined;
  for (const h of hosts) {
    domainsOf(h).forEach((raw, j) => {
      const d = raw.toLowerCase();
      const at = pathOf(h, j);
      if (d === '*') {
        if (fallback !== undefined) problems.add(at, 'only one virtual host may have the wildcard domain "*"');
        fallback = h;
        return;
      }
      const [map, key] = d.startsWith('*') ? [suffixes, d.slice(1)] : d.endsWith('*') ? [prefixes, d.slice(0, -1)] : [exact, d];
      if (map.has(key)) problems.add(at, `duplicate domain ${JSON.stringify(raw)}: domains must be unique across virtual hosts`);
      else map.set(key, h);
    });
  }
  const sorted = (m: Map<string, T>) => [...m].map(([part, value]) => ({ part, value })).sort((a, b) => b.part.length - a.part.length);
  return { exact, suffixes: sorted(suffixes), prefixes: sorted(prefixes), fallback, ignorePort, cache: new Map() };
}

/** The value serving `authority` (undefined when the request has none), or undefined. */
export function lookupDomain<T>(index: DomainIndex<T>, authority: string | undefined): T | undefined {
  // Only `*`: every request goes there, even one without an authority.
  if (index.exact.size === 0 && index.suffixes.length === 0 && index.prefixes.length === 0) return index.fallback;
  if (authority === undefined) return undefined;
  const cached = index.cache.get(authority);
  if (cached !== undefined) return cached ?? undefined;
  const found = find(index, authority);
  if (index.cache.size >= CACHE_LIMIT) index.cache.clear();
  index.cache.set(authority, found ?? null);
  return found;
}

function find<T>(index: DomainIndex<T>, authority: string): T | undefined {
  let host = authority;
  if (index.ignorePort) {
    const colon = portStart(host);
    if (colon >= 0) host = host.slice(0, colon);
  }
  host = host.toLowerCase();
  const exact = index.exact.get(host);
  if (exact !== undefined) return exact;
  for (const w of index.suffixes) {
    if (w.part.length < host.length && host.endsWith(w.part)) return w.value;
  }
  for (const w of index.prefixes) {
    if (w.part.length < host.length && host.startsWith(w.part)) return w.value;
  }
  return index.fallback;
}
