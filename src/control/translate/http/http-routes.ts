/**
 * VirtualService HTTP routes → Envoy `Route`s for one route configuration (one listener port, one
 * gateway or the mesh, one proxy), following Istio's `BuildHTTPRoutesForVirtualService` and
 * `TranslateRoute` (istio/istio pilot/pkg/networking/core/route/route.go): delegates are inlined, each
 * remaining match becomes one Envoy route (a route without matches becomes one catch-all route),
 * matches that do not apply here (port, gateway, source) are dropped, and nothing after a catch-all is
 * emitted. Pure: the same VirtualService and context give the same routes.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute
 */
import type { HTTPMatchRequest, SpecOf } from '../../../api/index.ts';
import type { EnvoyRoute, RouteContext, VirtualServiceResource } from './context.ts';
import { matchApplies, virtualServiceApplies } from './applies.ts';
import { CORS_FILTER, translateCors } from './cors.ts';
import { expandDelegates } from './delegate.ts';
import { FAULT_FILTER, translateFault } from './fault.ts';
import { forwardAction } from './forward.ts';
import { applyHeaderOperations, headerOperations } from './header-ops.ts';
import { isCatchAll, translateRouteMatch } from './route-match.ts';
import { BLACKHOLE_CLUSTER, answerUnknownHosts, directResponseAction, redirectAction } from './terminal.ts';
import { routeOperation } from './decorator.ts';

type HTTPRoute = NonNullable<SpecOf<'VirtualService'>['http']>[number];

/** The Envoy routes of `vs` for the context's port, gateway and proxy, in order. */
export function httpRoutes(vs: VirtualServiceResource, ctx: RouteContext): EnvoyRoute[] {
  if (!virtualServiceApplies(vs, ctx)) return [];
  const out: EnvoyRoute[] = [];
  for (const { route, namespace } of expandDelegates(vs, ctx)) {
    const matches = route.match ?? [];
    if (matches.length === 0) {
      const r = translateRoute(vs, route, undefined, namespace, ctx);
      if (r !== undefined) out.push(r);
      break;
    }
    let catchAll = false;
    for (const m of matches) {
      const r = translateRoute(vs, route, m, namespace, ctx);
      if (r === undefined) continue;
      out.push(r);
      // Envoy takes the first matching route: nothing after one that matches everything can be reached.
      if (isCatchAll(r['match'] as Record<string, unknown>)) {
        catchAll = true;
        break;
      }
    }
    if (catchAll) break;
  }
  return out;
}

function vsLabel(vs: VirtualServiceResource): string {
  return `${vs.metadata.namespace}/${vs.metadata.name}`;
}

/** Istio's config-info metadata: which resource a route came from (read by debug tools and telemetry). */
function configMetadata(vs: VirtualServiceResource): Record<string, unknown> {
  const config = `/apis/networking.istio.io/v1/namespaces/${vs.metadata.namespace}/virtual-service/${vs.metadata.name}`;
  return { filterMetadata: { istio: { fields: { config: { stringValue: config } } } } };
}

function routeName(r: HTTPRoute, m: HTTPMatchRequest | undefined): string {
  const base = r.name ?? '';
  return m?.name ? `${base}.${m.name}` : base;
}

/** One Envoy route for `r` under match `m`, or undefined when the match does not apply here. */
function translateRoute(vs: VirtualServiceResource, r: HTTPRoute, m: HTTPMatchRequest | undefined, namespace: string, ctx: RouteContext): EnvoyRoute | undefined {
  if (r.delegate !== undefined) return undefined;
  if (!matchApplies(m, ctx, vs.metadata.namespace)) return undefined;
  const out: EnvoyRoute = {};
  const name = routeName(r, m);
  if (name !== '') out['name'] = name;
  out['match'] = translateRouteMatch(m);
  out['metadata'] = configMetadata(vs);
  if (m?.statPrefix) out['statPrefix'] = m.statPrefix;
  const ops = r.headers === undefined ? undefined : headerOperations(r.headers);
  if (ops !== undefined) applyHeaderOperations(out, ops);
  if (!applyAction(out, r, vs, namespace, ops?.authority ?? '', ctx)) return undefined;
  out['decorator'] = { operation: routeOperation(out, vs.metadata.name, ctx.listenerPort) };
  const perFilter = perFilterConfig(r, ctx);
  if (perFilter !== undefined) out['typedPerFilterConfig'] = perFilter;
  return out;
}

/**
 * Sets the route's action. Returns false when the route must be left out (a redirect code Envoy
 * cannot send). Proxyless gRPC clients accept only forwarding routes, so for them a redirect, a direct
 * response or an unknown host becomes a route to the black hole: the call fails instead of matching a
 * later route.
 */
function applyAction(out: EnvoyRoute, r: HTTPRoute, vs: VirtualServiceResource, namespace: string, authority: string, ctx: RouteContext): boolean {
  const grpc = ctx.proxy.kind === 'grpc';
  if (r.redirect !== undefined) {
    const redirect = redirectAction(r.redirect, ctx.listenerPort, ctx.tls === true);
    if (redirect === undefined) return false;
    if (grpc) out['route'] = { cluster: BLACKHOLE_CLUSTER };
    else out['redirect'] = redirect;
    return true;
  }
  if (r.directResponse !== undefined) {
    if (grpc) out['route'] = { cluster: BLACKHOLE_CLUSTER };
    else out['directResponse'] = directResponseAction(r.directResponse);
    return true;
  }
  const fwd = forwardAction(out, r, { ctx, namespace, authority, vsLabel: vsLabel(vs) });
  out['route'] = fwd.action;
  if (fwd.unroutable && !grpc) {
    answerUnknownHosts(out, fwd.unknownHosts, vsLabel(vs));
  } else if (fwd.unroutable) {
    delete fwd.action['weightedClusters'];
    fwd.action['cluster'] = BLACKHOLE_CLUSTER;
  }
  return true;
}

/**
 * Per-route filter config. Proxyless gRPC clients reject per-route config for filters they do not
 * have (gRFC A39), and have no CORS filter (CORS concerns browsers), so they get only the fault config.
 */
function perFilterConfig(r: HTTPRoute, ctx: RouteContext): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const fault = r.fault === undefined ? undefined : translateFault(r.fault);
  if (fault !== undefined) out[FAULT_FILTER] = fault;
  if (r.corsPolicy !== undefined && ctx.proxy.kind !== 'grpc') out[CORS_FILTER] = translateCors(r.corsPolicy);
  return Object.keys(out).length === 0 ? undefined : out;
}
