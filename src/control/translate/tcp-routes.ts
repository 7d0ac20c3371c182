/**
 * Where TCP traffic to a service port goes: the first VirtualService `tcp` rule whose match fits the
 * port (and the proxy's labels/namespace), else the service's own cluster. Used for CONNECT routes in
 * local mode and tcp_proxy listeners.
 */
import type { PushContext, VirtualServiceResource } from '../push/push-context.ts';
import type { Service } from '../../registry/model.ts';
import type { Proxy } from '../proxy.ts';
import { outboundCluster } from './names.ts';
import { selects } from '../../api/index.ts';

export interface WeightedCluster {
  readonly name: string;
  readonly weight: number;
}


export function tcpDestinations(ctx: PushContext, vs: VirtualServiceResource | undefined, svc: Service, port: number, proxy: Proxy): WeightedCluster[] {
  const own = [{ name: outboundCluster(port, '', svc.hostname), weight: 100 }];
  if (vs === undefined) return own;
  for (const rule of vs.spec.tcp ?? []) {
    const matches = rule.match ?? [];
    const fits = matches.length === 0 || matches.some((m) =>
      (m.port === undefined || m.port === port) && (m.sourceLabels === undefined || selects(m.sourceLabels, proxy.labels)) &&
      (m.sourceNamespace === undefined || m.sourceNamespace === proxy.namespace) &&
      ((m.gateways ?? []).length === 0 || (m.gateways ?? []).includes('mesh')));
    if (!fits) continue;
    const out: WeightedCluster[] = [];
    for (const r of rule.route ?? []) {
      const target = ctx.service(r.destination.host, vs.metadata.namespace);
      if (target === undefined) continue;
      const p = r.destination.port?.number ?? (target.ports.length === 1 ? target.ports[0]!.port : port);
      out.push({ name: outboundCluster(p, r.destination.subset ?? '', target.hostname), weight: r.weight ?? (rule.route!.length === 1 ? 100 : 0) });
    }
    return out.length > 0 ? out : own;
  }
  return own;
}
