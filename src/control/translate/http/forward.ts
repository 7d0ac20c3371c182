/**
 * The forwarding part of an HTTP route (Istio's `applyHTTPRouteDestination`): destination cluster(s)
 * with their header operations, rewrites, timeout, retries, mirrors and the hash policies their
 * DestinationRules ask for, as an Envoy `RouteAction`.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routeaction
 */
import type { SpecOf } from '../../../api/index.ts';
import type { RouteContext } from './context.ts';
import { ERROR_HEADER, NO_TIMEOUT, headerOption, isZeroDuration, percentPerHundred, percentPerMillion, protoDuration, type ProtoDuration } from './envoy-values.ts';
import { applyHeaderOperations, headerOperations } from './header-ops.ts';
import { hashPolicy } from './consistent-hash.ts';
import { retryPolicy } from './retry.ts';
import { BLACKHOLE_CLUSTER, unknownHostMessage } from './terminal.ts';

type HTTPRoute = NonNullable<SpecOf<'VirtualService'>['http']>[number];
type HTTPRouteDestination = NonNullable<HTTPRoute['route']>[number];
type Destination = HTTPRouteDestination['destination'];

/** What forwarding needs besides the HTTP route itself. */
export interface ForwardInput {
  readonly ctx: RouteContext;
  /** Namespace that short destination hosts resolve in (the VirtualService's, or a delegate's). */
  readonly namespace: string;
  /** The authority from the route's `headers.request` (set/add of `:authority`/`host`), or ''. */
  readonly authority: string;
  /** `namespace/name` of the VirtualService, for messages. */
  readonly vsLabel: string;
}

export interface Forward {
  readonly action: Record<string, unknown>;
  /** Destination hosts that name no known service; all of them when no destination resolved. */
  readonly unknownHosts: readonly string[];
  /** Whether no destination resolved at all (the caller then answers instead of forwarding). */
  readonly unroutable: boolean;
}

/**
 * Istio disables Envoy's default 15 s route timeout when none is configured. Proxyless gRPC reads only
 * `max_stream_duration`; Envoy's gRPC handling reads the older `max_grpc_timeout`, which Istio still sets.
 */
export function applyTimeout(action: Record<string, unknown>, timeout: string | undefined, ctx: RouteContext): void {
  const t: ProtoDuration = timeout === undefined ? NO_TIMEOUT : protoDuration(timeout);
  action['timeout'] = t;
  if (ctx.proxy.kind === 'grpc') action['maxStreamDuration'] = { maxStreamDuration: t };
  else action['maxGrpcTimeout'] = isZeroDuration(t) ? NO_TIMEOUT : t;
}

function destinationKey(dest: Destination): { host: string; subset?: string; port?: number } {
  return { host: dest.host, subset: dest.subset || undefined, port: dest.port?.number || undefined };
}

function clusterOf(dest: Destination, input: ForwardInput): string | undefined {
  return input.ctx.clusterFor(destinationKey(dest), input.namespace);
}

/**
 * Appends the hash policy of `dest`'s consistent hash, if it has one; returns whether the destination
 * hashes at all (a consistent hash without a key still keeps retries on the hashed host, as in Istio).
 */
function addHashPolicy(action: Record<string, unknown>, dest: Destination, input: ForwardInput): boolean {
  const hash = input.ctx.consistentHash(destinationKey(dest), input.namespace);
  const policy = hashPolicy(hash);
  if (policy !== undefined) ((action['hashPolicy'] ??= []) as Record<string, unknown>[]).push(policy);
  return hash !== undefined;
}

function applyRewrite(action: Record<string, unknown>, r: HTTPRoute): string {
  const rw = r.rewrite;
  if (rw === undefined) return '';
  if (rw.uriRegexRewrite !== undefined) {
    action['regexRewrite'] = { pattern: { regex: rw.uriRegexRewrite.match ?? '' }, substitution: rw.uriRegexRewrite.rewrite ?? '' };
  } else if (rw.uri) {
    // Envoy swaps the matched part for it: the prefix, or the whole path for exact and regex matches.
    action['prefixRewrite'] = rw.uri;
  }
  return rw.authority ?? '';
}

function mirrorPolicies(r: HTTPRoute, input: ForwardInput): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const add = (dest: Destination, fraction: Record<string, unknown> | undefined) => {
    if (fraction === undefined) return;
    const cluster = clusterOf(dest, input);
    // A mirror to an unknown host would name a cluster the proxy does not have: leave it out.
    if (cluster === undefined) return;
    out.push({ cluster, runtimeFraction: { defaultValue: fraction }, traceSampled: { value: false } });
  };
  if (r.mirror !== undefined) add(r.mirror, mirrorFraction(r));
  for (const m of r.mirrors ?? []) {
    add(m.destination, m.percentage === undefined ? percentPerHundred(100) : m.percentage.value > 0 ? percentPerMillion(m.percentage.value) : undefined);
  }
  return out;
}

/** Istio's MirrorPercent: `mirrorPercentage`, else the deprecated integer, else everything; 0 means none. */
function mirrorFraction(r: HTTPRoute): Record<string, unknown> | undefined {
  if (r.mirrorPercentage !== undefined) return r.mirrorPercentage.value > 0 ? percentPerMillion(r.mirrorPercentage.value) : undefined;
  const legacy = r.mirrorPercent ?? r.mirror_percent;
  if (legacy !== undefined && legacy !== null) return legacy > 0 ? percentPerHundred(legacy) : undefined;
  return percentPerHundred(100);
}

function singleDestination(route: Record<string, unknown>, action: Record<string, unknown>, d: HTTPRouteDestination, input: ForwardInput): string[] {
  const cluster = clusterOf(d.destination, input);
  if (cluster === undefined) return [d.destination.host];
  action['cluster'] = cluster;
  if (d.headers !== undefined) {
    const ops = headerOperations(d.headers);
    applyHeaderOperations(route, ops);
    // A destination's authority applies only when the route itself does not rewrite it (as in Istio).
    if (ops.authority !== '' && action['hostRewriteLiteral'] === undefined) action['hostRewriteLiteral'] = ops.authority;
  }
  return [];
}

function clusterWeight(d: HTTPRouteDestination, input: ForwardInput): { weight: Record<string, unknown>; unknown?: string } {
  const cluster = clusterOf(d.destination, input);
  const out: Record<string, unknown> = { name: cluster ?? BLACKHOLE_CLUSTER, weight: { value: d.weight ?? 0 } };
  if (cluster === undefined) {
    // This share fails (no endpoints) and says why; the other destinations keep their traffic.
    out['responseHeadersToAdd'] = [headerOption(ERROR_HEADER, unknownHostMessage([d.destination.host], input.vsLabel), false)];
    return { weight: out, unknown: d.destination.host };
  }
  if (d.headers !== undefined) {
    const ops = headerOperations(d.headers);
    applyHeaderOperations(out, ops);
    if (ops.authority !== '') out['hostRewriteLiteral'] = ops.authority;
  }
  return { weight: out };
}

/**
 * Each weighted destination adds its own hash policy, in order (Istio's `processWeightedDestination`):
 * Envoy picks the cluster by weight first, then hashes with every policy, so destinations whose rules
 * hash on different keys all shape the hash.
 */
function weightedDestinations(action: Record<string, unknown>, dests: readonly HTTPRouteDestination[], input: ForwardInput): { unknown: string[]; unroutable: boolean } {
  const clusters: Record<string, unknown>[] = [];
  const unknown: string[] = [];
  // Istio leaves out destinations weighing 0 when there are several.
  for (const d of dests) {
    if ((d.weight ?? 0) === 0) continue;
    const w = clusterWeight(d, input);
    clusters.push(w.weight);
    if (w.unknown !== undefined) unknown.push(w.unknown);
    addHashPolicy(action, d.destination, input);
  }
  action['weightedClusters'] = { clusters };
  return { unknown, unroutable: clusters.length === 0 || unknown.length === clusters.length };
}

/** The RouteAction for a forwarding HTTP route; `route` receives per-destination header operations. */
export function forwardAction(route: Record<string, unknown>, r: HTTPRoute, input: ForwardInput): Forward {
  const action: Record<string, unknown> = {};
  applyTimeout(action, r.timeout, input.ctx);
  const authority = applyRewrite(action, r) || input.authority;
  if (authority !== '') action['hostRewriteLiteral'] = authority;
  const mirrors = mirrorPolicies(r, input);
  if (mirrors.length > 0) action['requestMirrorPolicies'] = mirrors;
  const dests = r.route ?? [];
  let unknownHosts: string[];
  let unroutable: boolean;
  // Only a single destination's consistent hash keeps retries on the hashed host (Istio's behaviour).
  let consistentHash = false;
  if (dests.length === 1) {
    unknownHosts = singleDestination(route, action, dests[0]!, input);
    unroutable = unknownHosts.length > 0;
    consistentHash = addHashPolicy(action, dests[0]!.destination, input);
  } else {
    ({ unknown: unknownHosts, unroutable } = weightedDestinations(action, dests, input));
  }
  const retry = retryPolicy(r.retries, consistentHash);
  if (retry !== undefined) action['retryPolicy'] = retry;
  return { action, unknownHosts, unroutable };
}
