/**
 * DestinationRule (networking.istio.io): policies for traffic to a service once routing has chosen it —
 * load balancing, connection limits, outlier detection, TLS — and its named subsets.
 * https://istio.io/latest/docs/reference/config/networking/destination-rule/
 */
import * as z from 'zod';
import { check, obj, rules, type RuleIssue } from '../../schema/object.ts';
import { exportTo, labelMap, str, selectorLabels } from '../../schema/primitives.ts';
import { dns1123LabelProblem, wildcardHostProblem } from '../../schema/names.ts';
import { defineKind } from '../kind.ts';
import { TrafficPolicy } from './traffic-policy.ts';

/** `istio.type.v1beta1.WorkloadSelector`: the `matchLabels` form used by DestinationRule and policies. */
export const MatchLabelsSelector = rules(
  obj({ matchLabels: selectorLabels().optional() }),
  (sel, report) => {
    const labels = Object.entries(sel.matchLabels ?? {});
    for (const [k, v] of labels) {
      if (k.includes('*') || v.includes('*')) report({ path: ['matchLabels', k], message: `wildcards are not supported in selectors (got ${k}=${v})` });
    }
    if (labels.length === 0) report({ severity: 'warning', message: 'workload selector has no labels: it selects every workload in the namespace' });
  },
);
export type MatchLabelsSelector = z.output<typeof MatchLabelsSelector>;

export const Subset = obj({
  name: check(str(), (n) => (n === '' ? 'subset name must not be empty' : dns1123LabelProblem(n))),
  labels: labelMap().optional(),
  trafficPolicy: TrafficPolicy.optional(),
});
export type Subset = z.output<typeof Subset>;

export const DestinationRuleSpec = rules(
  obj({
    host: check(str(), (h) => wildcardHostProblem(h)),
    trafficPolicy: TrafficPolicy.optional(),
    subsets: z.array(Subset).optional(),
    exportTo: exportTo().optional(),
    workloadSelector: MatchLabelsSelector.optional(),
  }),
  (dr, report) => destinationRuleRules(dr, report),
);
export type DestinationRuleSpec = z.output<typeof DestinationRuleSpec>;

function destinationRuleRules(dr: DestinationRuleSpec, report: (i: RuleIssue) => void): void {
  const names = new Map<string, number>();
  (dr.subsets ?? []).forEach((s, i) => {
    const prev = names.get(s.name);
    if (prev !== undefined) report({ path: ['subsets', i, 'name'], message: `duplicate subset name ${JSON.stringify(s.name)}: also used by subsets[${prev}]` });
    else names.set(s.name, i);
  });
  const exports = dr.exportTo ?? [];
  exports.forEach((e, i) => {
    if (e === '~') report({ path: ['exportTo', i], message: 'a DestinationRule cannot be exported to no namespace ("~"); only ServiceEntries can' });
  });
  if (dr.workloadSelector !== undefined && exports.length > 0) {
    // A selector picks workloads in the rule's own namespace, so exporting it further cannot apply anywhere.
    if (exports.length > 1) {
      report({ path: ['exportTo'], message: 'a DestinationRule with a workloadSelector can only be exported to its own namespace (one entry, ".")' });
    } else if (exports[0] === '*') {
      report({ path: ['exportTo', 0], message: 'a DestinationRule with a workloadSelector cannot be exported beyond its own namespace (got "*"; use ".")' });
    }
  }
}

export const DestinationRule = defineKind({
  kind: 'DestinationRule',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'destinationrules',
  shortNames: ['dr'],
  spec: DestinationRuleSpec,
});
