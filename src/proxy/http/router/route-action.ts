/**
 * `config.route.v3.RouteAction`, the forwarding part of a route: where to send the request (`cluster`,
 * `cluster_header`, `weighted_clusters`), how to rewrite it (one of `prefix_rewrite`, `regex_rewrite`;
 * one host rewrite), timeouts (Envoy's default route timeout is 15 s; 0 disables it), retries (the
 * route's policy, else the virtual host's), mirrors (the route's, else the virtual host's, else the
 * route configuration's), hash policy and upgrades. Cluster names are not checked against CDS here:
 * a missing cluster is a per-request `cluster_not_found` answer, as Envoy with `validate_clusters` off.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routeaction
 */
import { compileHashPolicies } from './hash-policy.ts';
import { compileRegexRewrite } from './regex.ts';
import type { PerFilterConfigHook } from './per-filter-config.ts';
import { bool, durationMs, enumName, field, has, headerName, headerValue, list, obj, Problems, runtimeFraction, str, type Proto } from './proto.ts';
import type { RetryPolicy } from './retry-policy.ts';
import { compileRetryPolicy } from './retry-policy.ts';
import type { Forwarding, HostRewrite, MirrorPolicy, Timeouts, UpgradeSettings } from './types.ts';
import { compileWeightedClusters, levelTarget, type Levels } from './weighted-clusters.ts';

/** What a route inherits from its virtual host and route configuration. */
export interface Inherited {
  readonly levels: Levels;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly hedgePolicy: Proto | undefined;
  readonly mirrors: readonly MirrorPolicy[];
  readonly hook: PerFilterConfigHook | undefined;
  /** `max_direct_response_body_size_bytes` of the route configuration. */
  readonly maxDirectResponseBodyBytes: number;
}

const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
const NOT_FOUND_CODES = ['SERVICE_UNAVAILABLE', 'NOT_FOUND', 'INTERNAL_SERVER_ERROR'];
const NOT_FOUND_STATUS = [503, 404, 500];

export function compileForwarding(a: Proto, inherited: Inherited, path: string, problems: Problems): Forwarding {
  const at = (k: string) => field(path, k);
  const targets = compileTargets(a, inherited, path, problems);
  const prefixRewrite = str(a['prefixRewrite']);
  if (prefixRewrite !== undefined) headerValue(prefixRewrite, at('prefixRewrite'), problems);
  const regexRewrite = has(a, 'regexRewrite') ? compileRegexRewrite(a['regexRewrite'], at('regexRewrite'), problems) : undefined;
  const rewrites = [prefixRewrite !== undefined && prefixRewrite !== '', has(a, 'regexRewrite'), has(a, 'pathRewritePolicy')].filter(Boolean).length;
  if (rewrites > 1) problems.add(path, 'specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy');
  if (has(a, 'pathRewritePolicy')) problems.add(at('pathRewritePolicy'), 'path rewrite policy extensions are not supported');
  for (const k of ['retryPolicyTypedConfig', 'earlyDataPolicy']) if (has(a, k)) problems.add(at(k), 'not supported');
  if (has(a, 'metadataMatch')) problems.add(at('metadataMatch'), 'subset load balancing by metadata_match is not supported');
  const mirrors = list(a['requestMirrorPolicies']).map((m, i) => compileMirrorPolicy(m, field(at('requestMirrorPolicies'), i), problems));
  return {
    ...targets,
    clusterNotFoundStatus: NOT_FOUND_STATUS[NOT_FOUND_CODES.indexOf(enumName(a, 'clusterNotFoundResponseCode', NOT_FOUND_CODES, path, problems))]!,
    prefixRewrite: prefixRewrite === '' ? undefined : prefixRewrite,
    regexRewrite,
    hostRewrite: compileHostRewrite(a, path, problems),
    appendXForwardedHost: bool(a['appendXForwardedHost']),
    timeouts: compileTimeouts(a, path, problems),
    retryPolicy: has(a, 'retryPolicy') ? compileRetryPolicy(a['retryPolicy'], at('retryPolicy'), problems) : inherited.retryPolicy,
    hashPolicy: compileHashPolicies(a['hashPolicy'], at('hashPolicy'), problems),
    mirrors: mirrors.length > 0 ? mirrors : inherited.mirrors,
    upgrades: compileUpgrades(a['upgradeConfigs'], at('upgradeConfigs'), problems),
    hedgePolicy: obj(a['hedgePolicy']) ?? inherited.hedgePolicy,
    internalRedirectPolicy: obj(a['internalRedirectPolicy']),
    action: a,
  };
}

function compileTargets(a: Proto, inherited: Inherited, path: string, problems: Problems): Pick<Forwarding, 'targets' | 'weighted'> {
  const single = (name: string, header?: string) => ({ targets: { clusters: [levelTarget(inherited.levels, name, header)], total: 1, randomHeader: undefined }, weighted: false });
  if (has(a, 'cluster')) {
    const name = str(a['cluster']) ?? '';
    if (name === '') problems.add(field(path, 'cluster'), 'must not be empty');
    return single(name);
  }
  if (has(a, 'clusterHeader')) return single('', headerName(a['clusterHeader'], field(path, 'clusterHeader'), problems));
  if (has(a, 'weightedClusters')) {
    return { targets: compileWeightedClusters(a['weightedClusters'], inherited.levels, field(path, 'weightedClusters'), problems, inherited.hook), weighted: true };
  }
  for (const k of ['clusterSpecifierPlugin', 'inlineClusterSpecifierPlugin']) {
    if (has(a, k)) {
      problems.add(field(path, k), 'cluster specifier plugins are not supported');
      return single('');
    }
  }
  problems.add(path, 'one of cluster, clusterHeader, weightedClusters is required');
  return single('');
}

function compileHostRewrite(a: Proto, path: string, problems: Problems): HostRewrite | undefined {
  const literal = str(a['hostRewriteLiteral']);
  if (literal !== undefined && literal !== '') return { kind: 'literal', value: headerValue(literal, field(path, 'hostRewriteLiteral'), problems) };
  if (has(a, 'autoHostRewrite')) return bool(a['autoHostRewrite']) ? { kind: 'auto' } : undefined;
  const header = str(a['hostRewriteHeader']);
  if (header !== undefined && header !== '') return { kind: 'header', name: headerName(header, field(path, 'hostRewriteHeader'), problems) };
  if (has(a, 'hostRewritePathRegex')) {
    const rewrite = compileRegexRewrite(a['hostRewritePathRegex'], field(path, 'hostRewritePathRegex'), problems);
    return rewrite === undefined ? undefined : { kind: 'path_regex', rewrite };
  }
  return undefined;
}

function compileTimeouts(a: Proto, path: string, problems: Problems): Timeouts {
  const msd = obj(a['maxStreamDuration']) ?? {};
  const msdPath = field(path, 'maxStreamDuration');
  return {
    routeMs: durationMs(a, 'timeout', path, problems) ?? DEFAULT_ROUTE_TIMEOUT_MS,
    idleMs: durationMs(a, 'idleTimeout', path, problems),
    maxStreamDurationMs: durationMs(msd, 'maxStreamDuration', msdPath, problems),
    grpcTimeoutHeaderMaxMs: durationMs(msd, 'grpcTimeoutHeaderMax', msdPath, problems),
    grpcTimeoutHeaderOffsetMs: durationMs(msd, 'grpcTimeoutHeaderOffset', msdPath, problems),
    maxGrpcTimeoutMs: durationMs(a, 'maxGrpcTimeout', path, problems),
    grpcTimeoutOffsetMs: durationMs(a, 'grpcTimeoutOffset', path, problems),
  };
}

const NO_UPGRADES: UpgradeSettings = { types: new Map(), connect: undefined };

function compileUpgrades(v: unknown, path: string, problems: Problems): UpgradeSettings {
  const configs = list(v);
  if (configs.length === 0) return NO_UPGRADES;
  const types = new Map<string, boolean>();
  let connect: UpgradeSettings['connect'];
  configs.forEach((c, i) => {
    const u = obj(c) ?? {};
    const at = field(path, i);
    const type = (str(u['upgradeType']) ?? '').toLowerCase();
    if (type === '') problems.add(field(at, 'upgradeType'), 'required');
    if (types.has(type)) problems.add(field(at, 'upgradeType'), `duplicate upgrade ${JSON.stringify(type)}`);
    types.set(type, bool(u['enabled'], true));
    if (has(u, 'connectConfig')) {
      if (type !== 'connect' && type !== 'connect-udp') problems.add(field(at, 'connectConfig'), `upgrade type ${JSON.stringify(type)} is not CONNECT and cannot have a connect_config`);
      const cc = obj(u['connectConfig']) ?? {};
      if (has(cc, 'proxyProtocolConfig')) problems.add(field(field(at, 'connectConfig'), 'proxyProtocolConfig'), 'not supported');
      connect = { allowPost: bool(cc['allowPost']) };
    }
  });
  return { types, connect };
}

/** `RouteAction.RequestMirrorPolicy` (also used by virtual hosts and route configurations). */
export function compileMirrorPolicy(v: unknown, path: string, problems: Problems): MirrorPolicy {
  const m = obj(v) ?? {};
  const cluster = str(m['cluster']) ?? '';
  const header = str(m['clusterHeader']) ?? '';
  if ((cluster === '') === (header === '')) {
    problems.add(path, cluster === '' ? 'exactly one of cluster or clusterHeader is required' : 'only one of cluster or clusterHeader may be set');
  }
  return {
    cluster,
    clusterHeader: header === '' ? undefined : headerName(header, field(path, 'clusterHeader'), problems),
    // Without a runtime fraction every request is mirrored.
    fraction: has(m, 'runtimeFraction') ? runtimeFraction(m['runtimeFraction'], field(path, 'runtimeFraction'), problems) : { numerator: 100, denominator: 100 },
    traceSampled: has(m, 'traceSampled') ? bool(m['traceSampled']) : undefined,
    disableShadowHostSuffixAppend: bool(m['disableShadowHostSuffixAppend']),
  };
}
