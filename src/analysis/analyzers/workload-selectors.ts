/**
 * Selectors against the workloads known from the input (only when the input declares any):
 * IST0127 for a DestinationRule subset or a policy selector that selects no workload, IST0110/IST0159
 * for two Sidecars/Telemetries selecting the same workload, and IST0111/IST0160 for two without any
 * selector in one namespace (which one applies is undefined).
 */
import type { Analyzer, Report } from '../analyzer.ts';
import { ROOT_NAMESPACE, type AnalysisContext } from '../context.ts';
import { MSG, type MessageType } from '../messages.ts';
import type { AnyResource, FieldPath } from '../../api/index.ts';
import { destinationsOf } from './walk.ts';

const show = (labels: Readonly<Record<string, string>>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');

/** A resource's workload selector labels and where they are, by kind. */
function selectorOf(r: AnyResource): { labels: Record<string, string>; path: FieldPath } | undefined {
  const spec = r.spec as { selector?: { matchLabels?: Record<string, string> }; workloadSelector?: { labels?: Record<string, string>; matchLabels?: Record<string, string> } };
  if (r.kind === 'Sidecar') return spec.workloadSelector ? { labels: spec.workloadSelector.labels ?? {}, path: ['spec', 'workloadSelector', 'labels'] } : undefined;
  if (r.kind === 'DestinationRule') return spec.workloadSelector ? { labels: spec.workloadSelector.matchLabels ?? {}, path: ['spec', 'workloadSelector', 'matchLabels'] } : undefined;
  if (r.kind === 'PeerAuthentication' || r.kind === 'RequestAuthentication' || r.kind === 'AuthorizationPolicy' || r.kind === 'Telemetry') {
    return spec.selector?.matchLabels ? { labels: spec.selector.matchLabels, path: ['spec', 'selector', 'matchLabels'] } : undefined;
  }
  return undefined;
}

const scope = (r: AnyResource) => (r.metadata.namespace === ROOT_NAMESPACE ? undefined : r.metadata.namespace);

/** `host|subset` of every subset some VirtualService routes to (hosts resolved). */
function routedSubsets(ctx: AnalysisContext): Set<string> {
  const out = new Set<string>();
  for (const vs of ctx.of('VirtualService')) {
    for (const d of destinationsOf(vs)) if (d.subset !== undefined) out.add(`${ctx.resolve(d.host, vs.metadata.namespace)}|${d.subset}`);
  }
  return out;
}

/** IST0127 for a subset no route uses: worth knowing, not worth a warning (bookinfo defines such subsets). */
const UNUSED_SUBSET: MessageType = { ...MSG.NoMatchingWorkloadsFound, level: 'Info' };

function subsets(ctx: AnalysisContext, report: Report): void {
  const routed = routedSubsets(ctx);
  for (const dr of ctx.of('DestinationRule')) {
    const host = ctx.resolve(dr.spec.host, dr.metadata.namespace);
    const svc = ctx.servicesFor(host, dr.metadata.namespace).find((s) => s.selector !== undefined);
    if (svc === undefined) continue;
    (dr.spec.subsets ?? []).forEach((s, i) => {
      const labels = { ...svc.selector, ...(s.labels ?? {}) };
      if (ctx.workloadsMatching(labels, svc.namespace).length > 0) return;
      const used = routed.has(`${host}|${s.name}`);
      report({
        type: used ? MSG.NoMatchingWorkloadsFound : UNUSED_SUBSET, resource: dr, path: ['spec', 'subsets', i, s.labels ? 'labels' : 'name'],
        message: `No matching workloads for subset ${JSON.stringify(s.name)} of ${host} with the following labels: ${show(labels)}${used ? ' (traffic routed to this subset fails with "no healthy upstream")' : ' (no route uses it yet)'}`,
      });
    });
  }
}

function policySelectors(ctx: AnalysisContext, report: Report): void {
  for (const r of ctx.resources) {
    const sel = selectorOf(r);
    if (sel === undefined || Object.keys(sel.labels).length === 0) continue;
    if (ctx.workloadsMatching(sel.labels, scope(r)).length > 0) continue;
    report({ type: MSG.NoMatchingWorkloadsFound, resource: r, path: sel.path, message: `No matching workloads for this resource with the following labels: ${show(sel.labels)}` });
  }
}

function uniquePerWorkload(ctx: AnalysisContext, report: Report, kind: 'Sidecar' | 'Telemetry', none: MessageType, overlap: MessageType, plural: string): void {
  const byNs = new Map<string, AnyResource[]>();
  for (const r of ctx.resources) if (r.kind === kind) byNs.set(r.metadata.namespace, [...(byNs.get(r.metadata.namespace) ?? []), r]);
  for (const [ns, list] of byNs) {
    const unselected = list.filter((r) => selectorOf(r) === undefined);
    if (unselected.length > 1) {
      const names = unselected.map((r) => r.metadata.name).sort().join(', ');
      for (const r of unselected) report({ type: none, resource: r, path: ['spec'], message: `The ${plural} [${names}] in namespace ${JSON.stringify(ns)} have no workload selector, which can lead to undefined behavior.` });
    }
    if (!ctx.workloadsKnown) continue;
    for (const w of ctx.workloads.filter((x) => x.namespace === ns)) {
      const selecting = list.filter((r) => {
        const sel = selectorOf(r);
        return sel !== undefined && Object.keys(sel.labels).length > 0 && ctx.workloadsMatching(sel.labels, ns).includes(w);
      });
      if (selecting.length < 2) continue;
      const names = selecting.map((r) => r.metadata.name).sort().join(', ');
      for (const r of selecting) report({ type: overlap, resource: r, path: selectorOf(r)!.path, message: `The ${plural} [${names}] in namespace ${JSON.stringify(ns)} select the same workload ${JSON.stringify(w.name)}, which can lead to undefined behavior.` });
    }
  }
}

export const workloadSelectors: Analyzer = {
  name: 'workload-selectors',
  description: 'subsets and selectors select workloads, and at most one Sidecar/Telemetry applies to each',
  run(ctx, report) {
    if (ctx.workloadsKnown) {
      subsets(ctx, report);
      policySelectors(ctx, report);
    }
    uniquePerWorkload(ctx, report, 'Sidecar', MSG.MultipleSidecarsWithoutWorkloadSelectors, MSG.ConflictingSidecarWorkloadSelectors, 'Sidecars');
    uniquePerWorkload(ctx, report, 'Telemetry', MSG.MultipleTelemetriesWithoutWorkloadSelectors, MSG.ConflictingTelemetryWorkloadSelectors, 'Telemetries');
  },
};
