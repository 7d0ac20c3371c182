/**
 * IST0145: two Gateways selecting the same gateway workloads with servers on the same port for
 * overlapping hosts. The proxy can serve only one of them per host; which one is undefined.
 */
import type { Analyzer } from '../analyzer.ts';
import { MSG } from '../messages.ts';
import { hostsOverlap } from '../../api/index.ts';
import type { ResourceOf } from '../../api/index.ts';

type GatewayResource = ResourceOf<'Gateway'>;

const selectorKey = (g: GatewayResource) => Object.entries(g.spec.selector ?? {}).sort().map(([k, v]) => `${k}=${v}`).join(',');
const bareHost = (h: string) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h);

export const gatewayConflicts: Analyzer = {
  name: 'gateway-conflicts',
  description: 'Gateways on the same workloads and port do not claim the same hosts',
  run(ctx, report) {
    const gws = ctx.of('Gateway');
    for (const a of gws) {
      a.spec.servers.forEach((sa, i) => {
        for (const b of gws) {
          if (a === b || selectorKey(a) !== selectorKey(b)) continue;
          for (const sb of b.spec.servers) {
            if (sa.port.number !== sb.port.number) continue;
            const shared = sa.hosts.filter((ha) => sb.hosts.some((hb) => hostsOverlap(bareHost(ha), bareHost(hb))));
            if (shared.length === 0) continue;
            report({
              type: MSG.ConflictingGateways, resource: a, path: ['spec', 'servers', i],
              message: `Conflict with gateways ${b.metadata.namespace}/${b.metadata.name} (workload selector ${selectorKey(a) || '(none)'}, port ${sa.port.number}, hosts ${shared.join(',')}).`,
            });
          }
        }
      });
    }
  },
};
