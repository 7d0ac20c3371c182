/**
 * LDS and RDS for gateway proxies (`router~` nodes). Every Gateway whose selector matches the proxy's
 * labels contributes its servers; servers on one port share a listener `0.0.0.0_<port>` on the proxy's
 * address and route configuration `http.<port>`, whose virtual hosts come from the VirtualServices bound
 * to those Gateways (hosts intersected with the servers' `namespace/host` entries, as Istio does).
 * HTTP servers route by VirtualService `http` rules; TCP servers and TLS PASSTHROUGH servers by `tcp` and
 * `tls` (SNI) rules through a TCP proxy. TLS termination (SIMPLE, MUTUAL) comes with the security issue.
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
import { l4FilterChains, l4VirtualServices, TLS_INSPECTOR } from './l4-routes.ts';

type Server = GatewayResource['spec']['servers'][number];

interface BoundServer {
  readonly gateway: GatewayResource;
  readonly server: Server;
}

/** How a server's traffic is handled here: HTTP routing, SNI passthrough, or plain TCP (TLS termination: security issue). */
function serverKind(server: Server): 'http' | 'tls' | 'tcp' | undefined {
  const p = parseProtocol(server.port.protocol);
  if (isHttpProtocol(p)) return 'http';
  if ((p === 'TLS' || p === 'HTTPS') && (server.tls?.mode ?? 'PASSTHROUGH') === 'PASSTHROUGH') return 'tls';
  if (p === 'TCP' || p === 'Mongo' || p === 'MySQL' || p === 'Redis') return 'tcp';
  return undefined;
}

/** Servers of the Gateways selecting `proxy`, by port and kind. */
function serversByPort(ctx: PushContext, proxy: Proxy, kind: 'http' | 'tls' | 'tcp'): Map<number, BoundServer[]> {
  const byPort = new Map<number, BoundServer[]>();
  for (const gateway of ctx.gatewaysFor(proxy)) {
    for (const server of gateway.spec.servers) {
      if (serverKind(server) !== kind) continue;
      const list = byPort.get(server.port.number) ?? [];
      list.push({ gateway, server });
      byPort.set(server.port.number, list);
    }
  }
  return byPort;
}

const httpServersByPort = (ctx: PushContext, proxy: Proxy) => serversByPort(ctx, proxy, 'http');

/** TCP-proxy filter chains for the TCP or TLS-passthrough servers on one port. */
function l4Chains(ctx: PushContext, proxy: Proxy, port: number, servers: readonly BoundServer[], kind: 'tcp' | 'tls'): Record<string, unknown>[] {
  const chains: Record<string, unknown>[] = [];
  for (const { gateway } of servers) {
    const gw = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    chains.push(...l4FilterChains(kind, l4VirtualServices(ctx, proxy, kind, gw), routeContext(ctx, proxy, port, gw), `outbound_0.0.0.0_${port}`));
  }
  return chains;
}

export function gatewayListeners(ctx: PushContext, proxy: Proxy): EnvoyListener[] {
  const listeners: EnvoyListener[] = [];
  const listen = (port: number, chains: Record<string, unknown>[], extra: Record<string, unknown> = {}) => {
    if (chains.length > 0) listeners.push({ name: `0.0.0.0_${port}`, address: socketAddress(proxy.ip, port), trafficDirection: 'OUTBOUND', filterChains: chains, ...extra });
  };
  const http = httpServersByPort(ctx, proxy);
  for (const port of http.keys()) {
    listen(port, [{ filters: [httpConnectionManager({ statPrefix: `outbound_0.0.0.0_${port}`, rds: gatewayRouteName(port), edge: true, http10: proxy.http10 })] }]);
  }
  for (const [port, servers] of serversByPort(ctx, proxy, 'tls')) if (!http.has(port)) listen(port, l4Chains(ctx, proxy, port, servers, 'tls'), { listenerFilters: [TLS_INSPECTOR] });
  for (const [port, servers] of serversByPort(ctx, proxy, 'tcp')) if (!http.has(port)) listen(port, l4Chains(ctx, proxy, port, servers, 'tcp'));
  return listeners.sort((a, b) => a.name.localeCompare(b.name));
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
