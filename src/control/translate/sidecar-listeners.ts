/**
 * LDS for sidecars in local mode (interception NONE): the app reaches the mesh through
 * `virtualOutbound` on the proxy's address, port 15001, an HTTP proxy (absolute-form requests and
 * CONNECT) routed by authority with route configuration `15001`; Sidecar egress listeners with an
 * explicit port add `<bind>_<port>` listeners; each workload port gets an inbound listener on the proxy's
 * address (where EDS sends mesh traffic) forwarding to the app through `inbound|port||`.
 */
import type { PushContext } from '../push/push-context.ts';
import type { Proxy } from '../proxy.ts';
import { isHttpProtocol, parseProtocol } from '../../api/index.ts';
import { inboundProtocol } from './inbound-protocol.ts';
import { socketAddress } from './proto-values.ts';
import { httpConnectionManager, tcpProxy } from './http-filters.ts';
import { inboundCluster, listenerName, outboundCluster, OUTBOUND_PORT, VIRTUAL_OUTBOUND } from './names.ts';
import { l4FilterChains, l4VirtualServices, TLS_INSPECTOR } from './l4-routes.ts';
import { routeContext } from './route-context.ts';

export type EnvoyListener = Record<string, unknown> & { name: string };

function virtualOutbound(proxy: Proxy): EnvoyListener {
  return {
    name: VIRTUAL_OUTBOUND,
    address: socketAddress(proxy.ip, OUTBOUND_PORT),
    trafficDirection: 'OUTBOUND',
    filterChains: [{ name: VIRTUAL_OUTBOUND, filters: [httpConnectionManager({ statPrefix: `outbound_${proxy.ip}_${OUTBOUND_PORT}`, rds: String(OUTBOUND_PORT), connect: true, http10: proxy.http10 })] }],
  };
}

function inboundListener(ctx: PushContext, proxy: Proxy, port: { name?: string; containerPort: number }): EnvoyListener {
  const cluster = inboundCluster(port.containerPort);
  const protocol = inboundProtocol(ctx, proxy, port.containerPort, port.name);
  const statPrefix = `inbound_${proxy.ip}_${port.containerPort}`;
  const filter = isHttpProtocol(protocol)
    ? httpConnectionManager({
      statPrefix,
      http10: proxy.http10,
      routeConfig: {
        name: cluster,
        virtualHosts: [{ name: `inbound|http|${port.containerPort}`, domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: { seconds: 0, nanos: 0 }, maxStreamDuration: { maxStreamDuration: { seconds: 0, nanos: 0 }, grpcTimeoutHeaderMax: { seconds: 0, nanos: 0 } } } }] }],
        validateClusters: { value: false },
      },
    })
    : tcpProxy(statPrefix, [{ name: cluster, weight: 100 }]);
  return {
    name: listenerName(proxy.ip, port.containerPort),
    address: socketAddress(proxy.ip, port.containerPort),
    trafficDirection: 'INBOUND',
    filterChains: [{ name: cluster, filters: [filter] }],
  };
}

/** A TCP or TLS egress listener's chains: VirtualService rules first, then each service on the port, then passthrough. */
function l4EgressChains(ctx: PushContext, proxy: Proxy, port: number, tls: boolean, statPrefix: string): Record<string, unknown>[] {
  const kind = tls ? 'tls' : 'tcp';
  const chains = l4FilterChains(kind, l4VirtualServices(ctx, proxy, kind), routeContext(ctx, proxy, port), statPrefix);
  const services = ctx.visibleServices(proxy.namespace, ctx.sidecarScope(proxy)).filter((s) => s.ports.some((p) => p.port === port));
  if (tls) {
    for (const svc of services) chains.push({ name: svc.hostname, filterChainMatch: { serverNames: [svc.hostname], transportProtocol: 'tls' }, filters: [tcpProxy(statPrefix, [{ name: outboundCluster(port, '', svc.hostname), weight: 100 }])] });
  }
  const fallback = !tls && services.length === 1 ? outboundCluster(port, '', services[0]!.hostname) : 'PassthroughCluster';
  if (!chains.some((c) => Object.keys((c['filterChainMatch'] as object | undefined) ?? {}).length === 0)) {
    chains.push({ name: 'default', filters: [tcpProxy(statPrefix, [{ name: fallback, weight: 100 }])] });
  }
  return chains;
}

/** Sidecar egress listeners with an explicit port (`captureMode: NONE` style explicit listeners). */
function egressListeners(ctx: PushContext, proxy: Proxy): EnvoyListener[] {
  const sidecar = ctx.sidecarScope(proxy).sidecar;
  const out: EnvoyListener[] = [];
  for (const e of sidecar?.spec.egress ?? []) {
    const number = e.port?.number;
    if (number === undefined || number === 0 || e.bind?.startsWith('unix://')) continue;
    const bind = e.bind ?? proxy.ip;
    const protocol = parseProtocol(e.port?.protocol ?? '');
    const statPrefix = `outbound_${bind}_${number}`;
    const tls = protocol === 'TLS' || protocol === 'HTTPS';
    const base = { name: listenerName(bind, number), address: socketAddress(bind, number), trafficDirection: 'OUTBOUND' };
    if (isHttpProtocol(protocol) || protocol === undefined) {
      out.push({ ...base, filterChains: [{ filters: [httpConnectionManager({ statPrefix, rds: String(number), http10: proxy.http10 })] }] });
    } else {
      out.push({ ...base, filterChains: l4EgressChains(ctx, proxy, number, tls, statPrefix), ...(tls ? { listenerFilters: [TLS_INSPECTOR] } : {}) });
    }
  }
  return out;
}

export function sidecarListeners(ctx: PushContext, proxy: Proxy): EnvoyListener[] {
  return [virtualOutbound(proxy), ...egressListeners(ctx, proxy), ...proxy.ports.map((p) => inboundListener(ctx, proxy, p))];
}

/** Route configuration names a sidecar's listeners reference over RDS. */
export function sidecarRouteNames(ctx: PushContext, proxy: Proxy): string[] {
  const names = [String(OUTBOUND_PORT)];
  for (const e of ctx.sidecarScope(proxy).sidecar?.spec.egress ?? []) if (e.port?.number) names.push(String(e.port.number));
  return names;
}
