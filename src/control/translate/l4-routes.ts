/**
 * VirtualService `tcp` and `tls` routes → filter chains with a TCP proxy: TCP rules match on port and
 * destination subnets, TLS rules on SNI (read by the TLS inspector listener filter, without terminating
 * TLS). Rules whose `sourceLabels`/`sourceNamespace`/`gateways` do not fit the proxy are dropped when
 * generating, as Istio does. Used by gateway TCP/TLS-passthrough servers and sidecar egress listeners.
 */
import type { PushContext, VirtualServiceResource } from '../push/push-context.ts';
import type { Proxy } from '../proxy.ts';
import type { RouteContext } from './http/context.ts';
import { tcpProxy } from './http-filters.ts';
import { BLACKHOLE_CLUSTER } from './names.ts';
import { typed } from './proto-values.ts';
import { gatewayRef, selects } from '../../api/index.ts';

type Obj = Record<string, unknown>;

interface L4Match {
  readonly port?: number;
  readonly destinationSubnets?: readonly string[];
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly sourceNamespace?: string;
  readonly gateways?: readonly string[];
  readonly sniHosts?: readonly string[];
}

interface L4Rule {
  readonly match?: readonly L4Match[];
  readonly route?: readonly { destination: { host: string; subset?: string; port?: { number?: number } }; weight?: number }[];
}

export const TLS_INSPECTOR = { name: 'envoy.filters.listener.tls_inspector', typedConfig: typed('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector') };

/** Whether a rule's match applies to this proxy, listener port and gateway (`mesh` for sidecars). */
function applies(m: L4Match, vs: VirtualServiceResource, rctx: RouteContext): boolean {
  if (m.port !== undefined && m.port !== rctx.listenerPort) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== rctx.proxy.namespace) return false;
  if (m.sourceLabels !== undefined && !selects(m.sourceLabels, rctx.proxy.labels)) return false;
  const gateways = m.gateways ?? vs.spec.gateways ?? [];
  const me = rctx.gateway ?? 'mesh';
  return gateways.length === 0 ? me === 'mesh' : gateways.some((g) => g === me || gatewayRef(g, vs.metadata.namespace) === me);
}

function prefixRanges(subnets: readonly string[] | undefined): Obj[] | undefined {
  if (subnets === undefined || subnets.length === 0) return undefined;
  return subnets.map((s) => {
    const [address, len] = s.split('/');
    return { addressPrefix: address, prefixLen: { value: len === undefined ? (address!.includes(':') ? 128 : 32) : Number(len) } };
  });
}

function destinations(rule: L4Rule, vs: VirtualServiceResource, rctx: RouteContext): { name: string; weight: number }[] {
  const routes = rule.route ?? [];
  const out = routes.map((r) => ({
    name: rctx.clusterFor({ host: r.destination.host, ...(r.destination.subset ? { subset: r.destination.subset } : {}), ...(r.destination.port?.number ? { port: r.destination.port.number } : {}) }, vs.metadata.namespace) ?? BLACKHOLE_CLUSTER,
    weight: r.weight ?? (routes.length === 1 ? 100 : 0),
  }));
  return out.filter((d) => d.weight > 0 || out.length === 1);
}

/**
 * Filter chains for `kind` rules of the VirtualServices, in order (first match wins, as Envoy picks the
 * most specific chain; rules of one VirtualService keep their order by being distinct matches).
 */
export function l4FilterChains(kind: 'tcp' | 'tls', vss: readonly VirtualServiceResource[], rctx: RouteContext, statPrefix: string): Obj[] {
  const chains: Obj[] = [];
  const seen = new Set<string>();
  for (const vs of vss) {
    for (const rule of (vs.spec[kind] ?? []) as readonly L4Rule[]) {
      const matches = (rule.match ?? []).length === 0 ? [{}] : rule.match!;
      for (const m of matches) {
        if (!applies(m, vs, rctx)) continue;
        const match: Obj = {
          ...(kind === 'tls' ? { serverNames: m.sniHosts ?? [], transportProtocol: 'tls' } : {}),
          ...(prefixRanges(m.destinationSubnets) ? { prefixRanges: prefixRanges(m.destinationSubnets) } : {}),
        };
        const key = JSON.stringify(match);
        if (seen.has(key)) continue; // an identical earlier match takes all of this one's traffic
        seen.add(key);
        chains.push({ name: `${vs.metadata.namespace}/${vs.metadata.name}`, filterChainMatch: match, filters: [tcpProxy(statPrefix, destinations(rule, vs, rctx))] });
      }
    }
  }
  return chains;
}

/**
 * Where a CONNECT to a TCP service port goes (local mode's HTTP proxy): the destinations of the first
 * VirtualService `tcp` rule that applies to the port and proxy, else the service's own cluster.
 */
export function connectDestinations(vs: VirtualServiceResource | undefined, rctx: RouteContext, ownCluster: string): { name: string; weight: number }[] {
  for (const rule of (vs?.spec.tcp ?? []) as readonly L4Rule[]) {
    const matches = (rule.match ?? []).length === 0 ? [{}] : rule.match!;
    if (matches.some((m) => applies(m, vs!, rctx))) return destinations(rule, vs!, rctx);
  }
  return [{ name: ownCluster, weight: 100 }];
}

/** The VirtualServices whose `kind` rules may apply: bound to `gateway`, or the mesh ones visible to the proxy. */
export function l4VirtualServices(ctx: PushContext, proxy: Proxy, kind: 'tcp' | 'tls', gateway?: string): VirtualServiceResource[] {
  const vss = gateway === undefined ? ctx.meshVirtualServices(proxy.namespace, ctx.sidecarScope(proxy)) : ctx.gatewayVirtualServices(gateway);
  return vss.filter((vs) => (vs.spec[kind] ?? []).length > 0);
}
