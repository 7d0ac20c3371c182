/**
 * LocalityLoadBalancerSetting: weighted distribution and failover across `region/zone/subzone`
 * localities. https://istio.io/latest/docs/reference/config/networking/destination-rule/#LocalityLoadBalancerSetting
 */
import * as z from 'zod';
import { obj, rules, type RuleIssue } from '../../schema/object.ts';
import { bool, str, uint32 } from '../../schema/primitives.ts';

const Distribute = obj({
  from: str().optional(),
  to: z.record(z.string(), uint32()).optional(),
});

const Failover = obj({
  from: str().optional(),
  to: str().optional(),
});

/** failoverPriority labels that name a topology level, which `failover` already orders by. */
const TOPOLOGY_LABELS = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

export const LocalityLoadBalancerSetting = rules(
  obj({
    distribute: z.array(Distribute).optional(),
    failover: z.array(Failover).optional(),
    failoverPriority: z.array(str()).optional(),
    enabled: bool().optional(),
  }),
  (lb, report) => localityRules(lb, report),
);
export type LocalityLoadBalancerSetting = z.output<typeof LocalityLoadBalancerSetting>;

function localityRules(lb: LocalityLoadBalancerSetting, report: (i: RuleIssue) => void): void {
  const distribute = lb.distribute ?? [];
  const failover = lb.failover ?? [];
  if (distribute.length > 0 && failover.length > 0) {
    report({ path: ['failover'], message: 'distribute and failover cannot be set together' });
    return;
  }
  if (failover.length > 0) {
    (lb.failoverPriority ?? []).forEach((label, i) => {
      if (TOPOLOGY_LABELS.has(label)) report({ path: ['failoverPriority', i], message: `topology label ${label} cannot be used in failoverPriority together with failover` });
    });
  }
  distribute.forEach((d, i) => distributeRules(d, ['distribute', i], report));
  const sources = distribute.map((d) => d.from ?? '');
  const problem = localitiesProblem(sources);
  if (problem !== undefined) report({ path: ['distribute', problem.index, 'from'], message: problem.message });
  failover.forEach((f, i) => failoverRules(f, ['failover', i], report));
}

function distributeRules(d: z.output<typeof Distribute>, path: (string | number)[], report: (i: RuleIssue) => void): void {
  const to = Object.entries(d.to ?? {});
  const bad = to.find(([, w]) => w < 1 || w > 100);
  if (bad !== undefined) {
    report({ path: [...path, 'to', bad[0]], message: `locality weight must be between 1 and 100 (got ${bad[1]})` });
    return;
  }
  const total = to.reduce((sum, [, w]) => sum + w, 0);
  if (total !== 100) report({ path: [...path, 'to'], message: `locality weights must add up to 100 (got ${total})` });
  const problem = localitiesProblem(to.map(([loc]) => loc));
  if (problem !== undefined) report({ path: [...path, 'to', to[problem.index]![0]], message: problem.message });
}

function failoverRules(f: z.output<typeof Failover>, path: (string | number)[], report: (i: RuleIssue) => void): void {
  const from = f.from ?? '';
  const to = f.to ?? '';
  if (from === to) report({ path: [...path, 'to'], message: `failover must go to a different region than it comes from (both are ${JSON.stringify(from)})` });
  for (const [field, v] of [['from', from], ['to', to]] as const) {
    if (v.includes('/')) report({ path: [...path, field], message: `failover names regions only, not zones (got ${JSON.stringify(v)})` });
    if (v.includes('*')) report({ path: [...path, field], message: `failover regions cannot contain the '*' wildcard (got ${JSON.stringify(v)})` });
  }
}

/**
 * Checks a list of `region/zone/subzone` patterns: one trailing `*` at most, no empty segment, and no
 * pattern covered by an earlier one (Istio's validateLocalities). Returns the first offender.
 */
export function localitiesProblem(localities: readonly string[]): { index: number; message: string } | undefined {
  const seen: string[][] = [];
  for (const [index, loc] of localities.entries()) {
    const stars = loc.split('*').length - 1;
    if (stars > 1 || (stars === 1 && !loc.endsWith('*'))) {
      return { index, message: `locality ${JSON.stringify(loc)} may hold one '*' wildcard, only at the end` };
    }
    const split = loc.split('/');
    const parts = split.length > 3 ? [split[0]!, split[1]!, split.slice(2).join('/')] : split;
    if (parts.some((p) => p === '')) return { index, message: `locality ${JSON.stringify(loc)} has an empty region, zone or subzone` };
    if (seen.some((prev) => overlaps(prev, parts))) return { index, message: `locality ${JSON.stringify(loc)} overlaps an earlier one` };
    seen.push(parts);
  }
  return undefined;
}

/**
 * Whether `cur` is covered by the earlier pattern `prev`: one is a prefix of the other, or `prev` has a
 * `*` at a level they share. As in Istio, a later wildcard does not conflict with earlier specific ones.
 */
function overlaps(prev: readonly string[], cur: readonly string[]): boolean {
  const n = Math.min(prev.length, cur.length);
  for (let i = 0; i < n; i++) {
    if (prev[i] === '*') return true;
    if (prev[i] !== cur[i]) return false;
  }
  return true;
}
