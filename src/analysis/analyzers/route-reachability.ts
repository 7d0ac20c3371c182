/**
 * IST0130 / IST0131: HTTP rules are tried in order and the first match wins, so a rule after a
 * catch-all (a rule without `match`) is never used, and a match identical to an earlier rule's match
 * never fires. Compared structurally (same fields, same values), not by semantics of overlap.
 */
import type { Analyzer } from '../analyzer.ts';
import { MSG } from '../messages.ts';

/** A canonical string for a match object (keys sorted, `name` ignored: it does not affect matching). */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([k]) => k !== 'name').sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
}

export const routeReachability: Analyzer = {
  name: 'route-reachability',
  description: 'HTTP rules and matches of a VirtualService are reachable',
  run(ctx, report) {
    for (const vs of ctx.of('VirtualService')) {
      const http = vs.spec.http ?? [];
      const seen = new Map<string, number>();
      let catchAll: number | undefined;
      http.forEach((rule, i) => {
        const label = rule.name ? `${JSON.stringify(rule.name)}` : `#${i}`;
        if (catchAll !== undefined) {
          report({ type: MSG.VirtualServiceUnreachableRule, resource: vs, path: ['spec', 'http', i], message: `VirtualService rule ${label} not used (rule #${catchAll} has no match and takes all traffic; only the last rule can have no matches).` });
          return;
        }
        const matches = rule.match ?? [];
        if (matches.length === 0) {
          catchAll = i;
          return;
        }
        let dupes = 0;
        matches.forEach((m, j) => {
          const key = canonical(m);
          const prev = seen.get(key);
          if (prev !== undefined) {
            dupes++;
            report({ type: MSG.VirtualServiceIneffectiveMatch, resource: vs, path: ['spec', 'http', i, 'match', j], message: `VirtualService rule ${label} match #${j} is not used (duplicate match in rule #${prev}).` });
          } else {
            seen.set(key, i);
          }
        });
        if (dupes === matches.length) {
          report({ type: MSG.VirtualServiceUnreachableRule, resource: vs, path: ['spec', 'http', i], message: `VirtualService rule ${label} not used (all its matches are used by earlier rules).` });
        }
      });
    }
  },
};
