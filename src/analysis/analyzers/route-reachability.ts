/**
 * IST0130 / IST0131: VirtualService rules are tried in order and the first match wins, so a rule after
 * a catch-all, or a match already covered by an earlier one, never takes traffic (see route-coverage.ts).
 */
import type { Analyzer } from '../analyzer.ts';
import { MSG } from '../messages.ts';
import { analyzeHttpRules, analyzeL4Rules, type DeadRoute } from '../route-coverage.ts';

export const routeReachability: Analyzer = {
  name: 'route-reachability',
  description: 'HTTP, TCP and TLS rules and matches of a VirtualService are reachable',
  run(ctx, report) {
    for (const vs of ctx.of('VirtualService')) {
      const dead = (d: DeadRoute) => report({
        type: d.what === 'rule' ? MSG.VirtualServiceUnreachableRule : MSG.VirtualServiceIneffectiveMatch,
        resource: vs, path: ['spec', ...d.path], message: d.message,
      });
      analyzeHttpRules(vs.spec.http ?? [], dead);
      analyzeL4Rules('tcp', vs.spec.tcp ?? [], dead);
      analyzeL4Rules('tls', vs.spec.tls ?? [], dead);
    }
  },
};
