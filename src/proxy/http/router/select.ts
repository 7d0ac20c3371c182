/**
 * Route selection for one request, as Envoy's `ConfigImpl::route`: the virtual host by authority
 * (domains.ts), its `require_tls` redirect, the first route whose match holds (route-match.ts), and
 * that route's action turned into a decision: a cluster (the weighted pick uses the same random value
 * as runtime fractions, as Envoy draws one per stream) with the path and host rewrites applied, a
 * redirect with its computed `Location`, a direct response, or no route. Pure: the request's random
 * source is the only input besides the request and the compiled config. Never throws on well-formed
 * input; the cost is a domain-cache lookup, the route scan and the decision object.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_routing
 */
import { lookupDomain } from './domains.ts';
import { requestHash } from './hash-policy.ts';
import { fractionHits } from './proto.ts';
import { redirectLocation, tlsRedirectLocation } from './redirect.ts';
import { routeMatches, type MatchInput } from './route-match.ts';
import { rewriteHost, rewritePath } from './rewrite.ts';
import type { ClusterTarget, CompiledRoutes, Decision, Forwarding, MirrorPolicy, RouteDecision, RouteEntry, RouteRequest, VirtualHostEntry } from './types.ts';
import { pickWeighted } from './weighted-clusters.ts';

const NO_VIRTUAL_HOST: Decision = Object.freeze({ kind: 'no_virtual_host' });
const TWO_32 = 2 ** 32;

class Input implements MatchInput {
  readonly request: RouteRequest;
  readonly matchPath: string | undefined;
  #random = -1;

  constructor(request: RouteRequest, ignorePathParameters: boolean) {
    this.request = request;
    const path = request.path;
    const semicolon = ignorePathParameters && path !== undefined ? path.indexOf(';') : -1;
    this.matchPath = semicolon < 0 ? path : path!.slice(0, semicolon);
  }

  /** The request's random value as an unsigned 32-bit integer, drawn on first use. */
  random(): number {
    if (this.#random < 0) this.#random = Math.floor(this.request.random() * TWO_32) % TWO_32;
    return this.#random;
  }
}

/** Where `request` goes under `config`. */
export function selectRoute(config: CompiledRoutes, request: RouteRequest): Decision {
  const vh = lookupDomain(config.hosts, request.authority);
  if (vh === undefined) return NO_VIRTUAL_HOST;
  if (needsTlsRedirect(vh, request)) {
    return { kind: 'redirect', virtualHost: vh, route: undefined, status: 301, location: tlsRedirectLocation(request) };
  }
  const input = new Input(request, config.ignorePathParametersInPathMatching);
  for (const route of vh.routes) {
    if (routeMatches(route.match, input)) return decide(vh, route, input);
  }
  return { kind: 'no_route', virtualHost: vh };
}

/** `require_tls`: ALL redirects every non-https request; EXTERNAL_ONLY spares `x-envoy-internal: true` ones. */
function needsTlsRedirect(vh: VirtualHostEntry, request: RouteRequest): boolean {
  if (vh.requireTls === 'NONE' || request.scheme === 'https') return false;
  return vh.requireTls === 'ALL' || request.headers.get('x-envoy-internal') !== 'true';
}

function decide(vh: VirtualHostEntry, route: RouteEntry, input: Input): Decision {
  const a = route.action;
  switch (a.kind) {
    case 'route':
      return forward(vh, route, a.forward, input);
    case 'redirect':
      return { kind: 'redirect', virtualHost: vh, route, status: a.redirect.status, location: redirectLocation(a.redirect, route.match.path, input.request) };
    case 'direct_response':
      return { kind: 'direct_response', virtualHost: vh, route, status: a.response.status, body: a.response.body };
    case 'non_forwarding':
      return { kind: 'non_forwarding', virtualHost: vh, route };
  }
}

function forward(vh: VirtualHostEntry, route: RouteEntry, f: Forwarding, input: Input): RouteDecision {
  const request = input.request;
  const header = (name: string) => request.headers.get(name);
  const target: ClusterTarget = (f.weighted ? pickWeighted(f.targets, input.random(), header) : f.targets.clusters[0]) ?? route.target;
  const path = request.path;
  return {
    kind: 'route',
    virtualHost: vh,
    route,
    forward: f,
    target,
    cluster: target.headerName === undefined ? target.name : firstValue(request.headers.get(target.headerName)),
    path: path === undefined ? undefined : rewritePath(path, route.match.path, f.prefixRewrite, f.regexRewrite),
    authority: rewriteHost(f.hostRewrite, target, path, header),
  };
}

/** Envoy reads only the first value of `cluster_header` (the header is untrusted). */
function firstValue(v: string | undefined): string {
  if (v === undefined) return '';
  const comma = v.indexOf(',');
  return comma < 0 ? v : v.slice(0, comma);
}

/** The hash a consistent-hash load balancer should use for a routed request, if its hash policy yields one. */
export function routeHash(decision: RouteDecision, request: RouteRequest): number | undefined {
  return decision.forward.hashPolicy.length === 0 ? undefined : requestHash(decision.forward.hashPolicy, request);
}

/** Whether to send a shadow copy under `policy`; `random` is uniform in [0, 1) and drawn per policy, as Envoy's router does. */
export function shouldMirror(policy: MirrorPolicy, random: number): boolean {
  return fractionHits(policy.fraction, Math.floor(random * TWO_32) % TWO_32);
}

/** The cluster a mirror policy sends to: its `cluster`, or the first value of its `cluster_header` ('' when absent). */
export function mirrorCluster(policy: MirrorPolicy, request: RouteRequest): string {
  return policy.clusterHeader === undefined ? policy.cluster : firstValue(request.headers.get(policy.clusterHeader));
}
