/**
 * xDS for proxyless gRPC clients (Istio's `grpc` generator): a listener per requested target
 * `<host>:<port>` carrying an `api_listener` (HTTP connection manager over RDS), a route configuration of
 * the same name, and EDS clusters. gRPC reads only what gRFC A27/A28 define: no CORS filter (it would
 * NACK), timeouts through `max_stream_duration`.
 * https://istio.io/latest/docs/ops/configuration/traffic-management/proxyless-grpc/
 */
import type { PushContext } from '../push/push-context.ts';
import type { Proxy } from '../proxy.ts';
import type { Service } from '../../registry/model.ts';
import { resolveHost, hostMatches } from '../../api/index.ts';
import { httpRoutes, defaultRoute } from './http/index.ts';
import { defaultRouteHash, routeContext } from './route-context.ts';
import { ADS_SOURCE, typed } from './proto-values.ts';
import { outboundCluster } from './names.ts';
import type { EnvoyListener } from './sidecar-listeners.ts';
import type { RouteConfiguration } from './outbound-routes.ts';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** The service and port a gRPC target names (`reviews.default.svc.cluster.local:9080`, short forms too). */
export function grpcTarget(ctx: PushContext, proxy: Proxy, name: string): { svc: Service; port: number; host: string } | undefined {
  const colon = name.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = name.slice(0, colon);
  const port = Number(name.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  const dots = host.split('.');
  const fqdn = dots.length === 2 ? `${host}.svc.cluster.local` : dots.length === 3 && dots[2] === 'svc' ? `${host}.cluster.local` : resolveHost(host, proxy.namespace);
  const svc = ctx.service(fqdn, proxy.namespace);
  if (svc === undefined || !svc.ports.some((p) => p.port === port)) return undefined;
  return { svc, port, host };
}

function apiListener(name: string): EnvoyListener {
  return {
    name,
    apiListener: {
      apiListener: typed(HCM, {
        rds: { routeConfigName: name, configSource: ADS_SOURCE },
        httpFilters: [
          { name: 'envoy.filters.http.fault', typedConfig: typed('envoy.extensions.filters.http.fault.v3.HTTPFault') },
          { name: 'envoy.filters.http.router', typedConfig: typed('envoy.extensions.filters.http.router.v3.Router') },
        ],
      }),
    },
  };
}

/** Listeners for the requested targets; for a wildcard request, every visible service port. */
export function grpcListeners(ctx: PushContext, proxy: Proxy, names: readonly string[] | undefined): EnvoyListener[] {
  if (names !== undefined) return names.filter((n) => grpcTarget(ctx, proxy, n) !== undefined).map(apiListener);
  const scope = ctx.sidecarScope(proxy);
  return ctx.visibleServices(proxy.namespace, scope).flatMap((s) => s.ports.map((p) => apiListener(`${s.hostname}:${p.port}`)));
}

export function grpcRouteConfig(ctx: PushContext, proxy: Proxy, name: string): RouteConfiguration | undefined {
  const target = grpcTarget(ctx, proxy, name);
  if (target === undefined) return undefined;
  const { svc, port, host } = target;
  const rctx = routeContext(ctx, proxy, port);
  const vs = ctx.meshVirtualServices(proxy.namespace, ctx.sidecarScope(proxy))
    .find((v) => (v.spec.hosts ?? []).some((h) => hostMatches(resolveHost(h, v.metadata.namespace), svc.hostname)));
  const routes = vs !== undefined && (vs.spec.http ?? []).length > 0 ? httpRoutes(vs, rctx) : [defaultRoute(outboundCluster(port, '', svc.hostname), rctx, defaultRouteHash(ctx, proxy, svc, port))];
  const domains = [...new Set([name, host, svc.hostname, `${svc.hostname}:${port}`])];
  return { name, virtualHosts: [{ name: `${svc.hostname}:${port}`, domains, routes }] };
}
