/**
 * LDS and RDS for gateway proxies (`router~` nodes). Every Gateway whose selector matches the proxy's
 * labels contributes its servers; servers on one port share a listener `0.0.0.0_<port>` on the proxy's
 * address and route configuration `http.<port>`, whose virtual hosts come from the VirtualServices bound
 * to those Gateways (hosts intersected with the servers' `namespace/host` entries, as Istio does).
 * HTTP servers now; HTTPS/TLS termination and passthrough come with the security issue.
 */
import type { GatewayResource, PushContext, VirtualServiceResource } from '../push/push-context.ts';
import type { Proxy } from '../proxy.ts';
import { hostMatches, isHttpProtocol, parseProtocol, resolveHost } from '../../api/index.ts';
import { httpRoutes } from './http/index.ts';
import { routeContext } from './route-context.ts';
import { httpConnectionManager } from './http-filters.ts';
import { socketAddress } from './proto-values.ts';
import { gatewayRouteName } from './names.ts';
import type { EnvoyListener } from './sidecar-listeners.ts';
import type { RouteConfiguration } from './outbound-routes.ts';

type Server = GatewayResource['spec']['servers'][number];

interface BoundServer {
  readonly gateway: GatewayResource;
  readonly server: Server;
}

/** HTTP servers of the Gateways selecting `proxy`, by port. */
function httpServersByPort(ctx: PushContext, proxy: Proxy): Map<number, BoundServer[]> {
  const byPort = new Map<number, BoundServer[]>();
  for (const gateway of ctx.gatewaysFor(proxy)) {
    for (const server of gateway.spec.servers) {
      if (!isHttpProtocol(parseProtocol(server.port.protocol))) continue;
      const list = byPort.get(server.port.number) ?? [];
      list.push({ gateway, server });
      byPort.set(server.port.number, list);
    }
  }
  return byPort;
}

export function gatewayListeners(ctx: PushContext, proxy: Proxy): EnvoyListener[] {
  return [...httpServersByPort(ctx, proxy).keys()].sort((a, b) => a - b).map((port) => ({
    name: `0.0.0.0_${port}`,
    address: socketAddress(proxy.ip, port),
    trafficDirection: 'OUTBOUND',
    filterChains: [{ filters: [httpConnectionManager({ statPrefix: `outbound_0.0.0.0_${port}`, rds: gatewayRouteName(port), edge: true })] }],
  }));
}

export function gatewayRouteNames(ctx: PushContext, proxy: Proxy): string[] {
  return [...httpServersByPort(ctx, proxy).keys()].map(gatewayRouteName);
}

/** The VirtualService hosts a server admits: `ns/host` entries restrict by namespace and host pattern. */
function admittedHosts(vs: VirtualServiceResource, server: Server, gatewayNs: string): string[] {
  const out: string[] = [];
  for (const h of vs.spec.hosts ?? []) {
    const host = resolveHost(h, vs.metadata.namespace);
    const ok = server.hosts.some((entry) => {
      const slash = entry.indexOf('/');
      const ns = slash < 0 ? '*' : entry.slice(0, slash);
      const pattern = slash < 0 ? entry : entry.slice(slash + 1);
      const nsOk = ns === '*' || (ns === '.' ? vs.metadata.namespace === gatewayNs : ns === vs.metadata.namespace);
      return nsOk && (hostMatches(pattern, host) || hostMatches(host, pattern));
    });
    if (ok) out.push(h.includes('.') || h === '*' ? h : host);
  }
  return out;
}

/** Route configuration `http.<port>` of a gateway proxy. */
export function gatewayRouteConfig(ctx: PushContext, proxy: Proxy, name: string): RouteConfiguration {
  const port = Number(name.slice('http.'.length));
  const servers = httpServersByPort(ctx, proxy).get(port) ?? [];
  const hosts = new Map<string, { routes: Record<string, unknown>[]; redirect: boolean }>();
  for (const { gateway, server } of servers) {
    const gwKey = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    for (const vs of ctx.gatewayVirtualServices(gwKey)) {
      const routes = httpRoutes(vs, routeContext(ctx, proxy, port, gwKey));
      for (const host of admittedHosts(vs, server, gateway.metadata.namespace)) {
        const entry = hosts.get(host) ?? { routes: [], redirect: false };
        entry.routes.push(...routes);
        entry.redirect ||= server.tls?.httpsRedirect === true;
        hosts.set(host, entry);
      }
    }
  }
  const virtualHosts = [...hosts.entries()].map(([host, e]) => ({
    name: `${host}:${port}`,
    domains: host === '*' ? ['*'] : [host, `${host}:${port}`],
    routes: e.routes,
    ...(e.redirect ? { requireTls: 'ALL' } : {}),
    includeRequestAttemptCount: true,
  }));
  return { name, virtualHosts, validateClusters: { value: false } };
}
