/**
 * Cluster targets of a route action: one cluster, `cluster_header`, or `weighted_clusters`, each
 * compiled with everything that applies to requests sent there (header mutations of every level in
 * Envoy's order, the most specific per-filter configs), and the weighted pick: a value in
 * [0, total weight) from the request's random number (or from `header_name`) selects the cluster
 * whose interval [sum before, sum before + weight) holds it, as Envoy's
 * `WeightedClusterSpecifierPlugin::pickWeightedCluster`. A weight of 0 is an empty interval, never picked.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-weightedcluster
 */
import { compileHeaderMutation, type HeaderMutation } from './header-mutations.ts';
import { compilePerFilterConfigs, mergeFilterConfigs, type FilterConfigs, type PerFilterConfigHook } from './per-filter-config.ts';
import { field, has, headerName, headerValue, list, num, obj, Problems, str, type Proto } from './proto.ts';
import type { ClusterTarget } from './types.ts';

/** What the route, its virtual host and the route configuration contribute to every target. */
export interface Levels {
  /** Route, virtual host and route configuration mutations, already in application order. */
  readonly requestHeaders: readonly HeaderMutation[];
  readonly responseHeaders: readonly HeaderMutation[];
  /** Route over virtual host over route configuration. */
  readonly perFilterConfig: FilterConfigs;
}

const UINT32_MAX = 0xffff_ffff;

/** The target of a plain `cluster` or `cluster_header` action (or of a route that does not forward). */
export function levelTarget(levels: Levels, name: string, headerName?: string): ClusterTarget {
  return {
    name, headerName, weight: 1, requestHeaders: levels.requestHeaders, responseHeaders: levels.responseHeaders,
    perFilterConfig: levels.perFilterConfig, hostRewriteLiteral: undefined,
  };
}

export interface WeightedTargets {
  readonly clusters: readonly ClusterTarget[];
  readonly total: number;
  readonly randomHeader: string | undefined;
}

export function compileWeightedClusters(v: unknown, levels: Levels, path: string, problems: Problems, hook: PerFilterConfigHook | undefined): WeightedTargets {
  const w = obj(v) ?? {};
  const entries = list(w['clusters']);
  const at = field(path, 'clusters');
  if (entries.length === 0) problems.add(at, 'at least one cluster required');
  const clusters = entries.map((e, i) => compileClusterWeight(obj(e) ?? {}, levels, field(at, i), problems, hook));
  const total = clusters.reduce((sum, c) => sum + c.weight, 0);
  if (total > UINT32_MAX) problems.add(at, `the sum of weights (${total}) exceeds ${UINT32_MAX}`);
  else if (entries.length > 0 && total === 0) problems.add(at, 'the sum of weights must be greater than 0');
  if (has(w, 'clusterSpecifierPlugin')) problems.add(field(path, 'clusterSpecifierPlugin'), 'not supported');
  const header = str(w['headerName']);
  return { clusters, total, randomHeader: header === undefined || header === '' ? undefined : headerName(header, field(path, 'headerName'), problems) };
}

function compileClusterWeight(c: Proto, levels: Levels, path: string, problems: Problems, hook: PerFilterConfigHook | undefined): ClusterTarget {
  const name = str(c['name']) ?? '';
  const header = str(c['clusterHeader']) ?? '';
  if ((name === '') === (header === '')) problems.add(path, name === '' ? 'one of name or clusterHeader is required' : 'only one of name or clusterHeader may be set');
  if (!has(c, 'weight')) problems.add(field(path, 'weight'), 'required');
  const weight = num(c['weight']) ?? 0;
  if (weight < 0 || !Number.isInteger(weight)) problems.add(field(path, 'weight'), `must be a non-negative integer (got ${weight})`);
  const req = compileHeaderMutation(c, 'request', path, problems);
  const resp = compileHeaderMutation(c, 'response', path, problems);
  const own = compilePerFilterConfigs(c['typedPerFilterConfig'], field(path, 'typedPerFilterConfig'), problems, hook);
  const literal = str(c['hostRewriteLiteral']);
  if (literal !== undefined) headerValue(literal, field(path, 'hostRewriteLiteral'), problems);
  if (has(c, 'metadataMatch')) problems.add(field(path, 'metadataMatch'), 'subset load balancing by metadata_match is not supported');
  return {
    name,
    headerName: header === '' ? undefined : headerName(header, field(path, 'clusterHeader'), problems),
    weight: Math.max(0, weight),
    requestHeaders: withFirst(req, levels.requestHeaders),
    responseHeaders: withFirst(resp, levels.responseHeaders),
    perFilterConfig: mergeFilterConfigs(levels.perFilterConfig, own),
    hostRewriteLiteral: literal === '' ? undefined : literal,
  };
}

// Envoy's WeightedClusterEntry evaluates its own header parser before the route's (in either order mode).
function withFirst(first: HeaderMutation | undefined, rest: readonly HeaderMutation[]): readonly HeaderMutation[] {
  return first === undefined ? rest : [first, ...rest];
}

// absl::SimpleAtoi into uint64.
const UINT = /^[ \t\n\v\f\r]*\+?\d+[ \t\n\v\f\r]*$/;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * The weighted pick. `random` is the request's random integer; a `header_name` header holding one
 * unsigned integer overrides it (a missing, repeated or malformed header falls back to `random`).
 * Undefined only for targets that failed to compile (no clusters, zero total).
 */
export function pickWeighted(targets: WeightedTargets, random: number, headerValueOf: (name: string) => string | undefined): ClusterTarget | undefined {
  if (!(targets.total > 0)) return undefined;
  let value = random;
  if (targets.randomHeader !== undefined) {
    const h = headerValueOf(targets.randomHeader);
    if (h !== undefined && UINT.test(h)) {
      const n = BigInt(h.trim());
      if (n <= UINT64_MAX) value = Number(n % BigInt(targets.total));
    }
  }
  const selected = value % targets.total;
  let end = 0;
  for (const c of targets.clusters) {
    end += c.weight;
    if (selected < end) return c;
  }
  return undefined;
}
