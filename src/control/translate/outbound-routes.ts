/**
 * Sidecar outbound RDS. Route configuration `<port>` holds a virtual host per visible service on that
 * port (Istio's layout); the local-mode HTTP proxy listener on 15001 uses route configuration `15001`,
 * which holds every port's virtual hosts with port-qualified domains, so an absolute-form request or a
 * CONNECT is routed by its authority alone. Each virtual host gets the routes of the mesh VirtualService
 * for its host, or the default route to the service's cluster; non-HTTP ports get a CONNECT route.
 * A catch-all `allow_any`/`block_all` virtual host applies outboundTrafficPolicy to unknown hosts.
 */
import type { PushContext, VirtualServiceResource } from '../push/push-context.ts';
import type { Proxy } from '../proxy.ts';
import type { Service, ServicePort } from '../../registry/model.ts';
import { hostMatches, isHttpProtocol, resolveHost, DOMAIN_SUFFIX } from '../../api/index.ts';
import { httpRoutes, defaultRoute } from './http/index.ts';
import type { EnvoyRoute } from './http/context.ts';
import { defaultRouteHash, routeContext } from './route-context.ts';
import { outboundCluster, OUTBOUND_PORT, PASSTHROUGH_CLUSTER } from './names.ts';
import { connectDestinations } from './l4-routes.ts';

export type RouteConfiguration = Record<string, unknown> & { name: string };

/** The names a client may use for `svc` on `port` (Istio's generateVirtualHostDomains). */
export function domainsFor(svc: Service, port: number, proxyNamespace: string, bareHost: boolean): string[] {
  const names = [svc.hostname];
  const suffix = `.${svc.namespace}.${DOMAIN_SUFFIX}`;
  if (svc.kind === 'Service' && svc.hostname.endsWith(suffix)) {
    const short = svc.hostname.slice(0, -suffix.length);
    names.push(`${short}.${svc.namespace}`, `${short}.${svc.namespace}.svc`);
    if (svc.namespace === proxyNamespace) names.push(short);
  }
  names.push(...svc.addresses);
  const out = names.map((n) => `${n}:${port}`);
  if (bareHost) out.unshift(...names);
  return out;
}

/** The mesh VirtualService for `host` (exact host before wildcards; the oldest wins, as in Istio). */
function virtualServiceFor(vss: readonly VirtualServiceResource[], host: string): VirtualServiceResource | undefined {
  let wildcard: VirtualServiceResource | undefined;
  for (const vs of vss) {
    for (const h of vs.spec.hosts ?? []) {
      const resolved = resolveHost(h, vs.metadata.namespace);
      if (resolved === host) return vs;
      if (wildcard === undefined && resolved.includes('*') && hostMatches(resolved, host)) wildcard = vs;
    }
  }
  return wildcard;
}

function connectRoute(clusters: readonly { name: string; weight: number }[]): EnvoyRoute {
  const action = clusters.length === 1
    ? { cluster: clusters[0]!.name }
    : { weightedClusters: { clusters: clusters.map((c) => ({ name: c.name, weight: { value: c.weight } })) } };
  return { name: 'connect', match: { connectMatcher: {} }, route: { ...action, upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] } };
}

function routesFor(ctx: PushContext, proxy: Proxy, svc: Service, port: ServicePort, vs: VirtualServiceResource | undefined, listenerPort: number): EnvoyRoute[] {
  const rctx = routeContext(ctx, proxy, listenerPort === OUTBOUND_PORT ? port.port : listenerPort);
  if (!isHttpProtocol(port.protocol) && port.protocol !== undefined) {
    return [connectRoute(connectDestinations(vs, rctx, outboundCluster(port.port, '', svc.hostname)))];
  }
  const http = vs !== undefined && (vs.spec.http ?? []).length > 0
    ? httpRoutes(vs, rctx)
    : [defaultRoute(outboundCluster(port.port, '', svc.hostname), rctx, defaultRouteHash(ctx, proxy, svc, port.port))];
  // Plain-text HTTP services also accept CONNECT (clients that tunnel everything through the proxy).
  return [...http, connectRoute([{ name: outboundCluster(port.port, '', svc.hostname), weight: 100 }])];
}

function catchAll(ctx: PushContext, proxy: Proxy): Record<string, unknown> {
  const scope = ctx.sidecarScope(proxy);
  if (scope.outboundMode === 'REGISTRY_ONLY') {
    return {
      name: 'block_all', domains: ['*'],
      routes: [{ name: 'block_all', match: { prefix: '/' }, directResponse: { status: 502, body: { inlineString: 'weft: host is not in the mesh registry and outboundTrafficPolicy is REGISTRY_ONLY\n' } },
        responseHeadersToAdd: [{ header: { key: 'x-weft-error', value: 'registry-only' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }] }],
    };
  }
  return {
    name: 'allow_any', domains: ['*'],
    routes: [
      { name: 'allow_any', match: { prefix: '/' }, route: { cluster: PASSTHROUGH_CLUSTER, timeout: { seconds: 0, nanos: 0 } } },
      { name: 'allow_any_connect', match: { connectMatcher: {} }, route: { cluster: PASSTHROUGH_CLUSTER, upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] } },
    ],
  };
}

/**
 * Route configuration `name` for a sidecar: for port `listenerPort`, or every port when it is the
 * local-mode HTTP proxy port (15001). Memoized per namespace, scope and (when VirtualServices match on
 * source labels) the proxy's labels. Each virtual host is memoized too, and taken from the previous push
 * context when its host's routing did not change (`PushContext.previousRouteFor`): a routing change to
 * one service then builds one virtual host, and every other one stays the same object, so its
 * consistency check, VHDS form and encoding are reused as well.
 */
export function outboundRouteConfig(ctx: PushContext, proxy: Proxy, listenerPort: number): RouteConfiguration {
  const scope = ctx.sidecarScope(proxy);
  const vss = ctx.meshVirtualServices(proxy.namespace, scope);
  const labelKey = vss.some((vs) => (vs.spec.http ?? []).some((h) => (h.match ?? []).some((m) => m.sourceLabels !== undefined)))
    ? JSON.stringify(proxy.labels) : '';
  const key = `rds|${listenerPort}|${proxy.namespace}|${scope.key}|${labelKey}`;
  const cached = ctx.memo.get(key) as RouteConfiguration | undefined;
  if (cached !== undefined) return cached;
  const all = listenerPort === OUTBOUND_PORT;
  const virtualHosts: Record<string, unknown>[] = [];
  for (const svc of ctx.visibleServices(proxy.namespace, scope)) {
    let vs: VirtualServiceResource | undefined | null = null; // looked up once per service, when needed
    for (const port of svc.ports) {
      if (!all && port.port !== listenerPort) continue;
      const vhKey = `vh|${key}|${svc.hostname}|${svc.namespace}|${port.port}`;
      let vh = ctx.previousRouteFor(vhKey, svc.hostname) as Record<string, unknown> | undefined;
      if (vh === undefined) {
        if (vs === null) vs = virtualServiceFor(vss, svc.hostname);
        vh = {
          name: `${svc.hostname}:${port.port}`,
          domains: domainsFor(svc, port.port, proxy.namespace, !all || port.port === 80),
          routes: routesFor(ctx, proxy, svc, port, vs, listenerPort),
          includeRequestAttemptCount: true,
        };
        ctx.memo.set(vhKey, vh);
      }
      virtualHosts.push(vh);
    }
  }
  virtualHosts.push(catchAll(ctx, proxy));
  const config: RouteConfiguration = { name: String(listenerPort), virtualHosts, validateClusters: { value: false } };
  ctx.memo.set(key, config);
  return config;
}
