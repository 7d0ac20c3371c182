/**
 * IST0101 / IST0112 for VirtualService destinations: the host must be a known service (Service or
 * ServiceEntry visible from the VirtualService's namespace), a subset must be defined by a
 * DestinationRule for that host, a port must be one the service exposes, and gateway-bound routes to a
 * multi-port service must say which port. A missing host or subset is the classic cause of 503s (NR, UH).
 */
import type { Analyzer } from '../analyzer.ts';
import type { AnalysisContext } from '../context.ts';
import { MSG } from '../messages.ts';
import { hostMatches, visibleFrom } from '../../api/index.ts';
import { destinationsOf, gatewaysOf } from './walk.ts';

/** Subset names defined for `host` by DestinationRules visible from namespace `from`. */
function subsetsFor(ctx: AnalysisContext, host: string, from: string): Set<string> {
  const names = new Set<string>();
  for (const dr of ctx.of('DestinationRule')) {
    const drHost = ctx.resolve(dr.spec.host, dr.metadata.namespace);
    if (!visibleFrom(dr.spec.exportTo, dr.metadata.namespace, from)) continue;
    if (drHost !== host && !hostMatches(drHost, host)) continue;
    for (const s of dr.spec.subsets ?? []) names.add(s.name);
  }
  return names;
}

export const destinationHost: Analyzer = {
  name: 'destination-host',
  description: 'VirtualService destinations name existing hosts, subsets and ports',
  run(ctx, report) {
    for (const vs of ctx.of('VirtualService')) {
      const ns = vs.metadata.namespace;
      const gatewayBound = gatewaysOf(vs).some((g) => g !== 'mesh');
      for (const d of destinationsOf(vs)) {
        const host = ctx.resolve(d.host, ns);
        const services = ctx.servicesFor(host, ns);
        if (services.length === 0) {
          report({ type: MSG.ReferencedResourceNotFound, resource: vs, path: [...d.path, 'host'], message: `Referenced host not found: ${JSON.stringify(d.host)}` });
          continue;
        }
        if (d.subset !== undefined && !subsetsFor(ctx, host, ns).has(d.subset)) {
          report({ type: MSG.ReferencedResourceNotFound, resource: vs, path: [...d.path, 'subset'], message: `Referenced host+subset in destinationrule not found: ${JSON.stringify(`${d.host}+${d.subset}`)}` });
        }
        const ports = services.flatMap((s) => s.ports.map((p) => p.number));
        if (d.port !== undefined && ports.length > 0 && !ports.includes(d.port)) {
          report({ type: MSG.ReferencedResourceNotFound, resource: vs, path: [...d.path, 'port', 'number'], message: `Referenced host:port not found: ${JSON.stringify(`${d.host}:${d.port}`)} (the service exposes ${[...new Set(ports)].join(', ')})` });
        }
        const distinct = [...new Set(ports)];
        if (d.port === undefined && gatewayBound && distinct.length > 1) {
          report({ type: MSG.VirtualServiceDestinationPortSelectorRequired, resource: vs, path: d.path, message: `This VirtualService routes to a service ${JSON.stringify(d.host)} that exposes multiple ports [${distinct.join(' ')}]. Specifying a port in the destination is required to disambiguate.` });
        }
      }
    }
  },
};
