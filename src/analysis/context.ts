/**
 * What analyzers see: the validated resources by kind, the services they define (Service and
 * ServiceEntry hosts and ports), and the workloads known from the input (WorkloadEntries, ServiceEntry
 * endpoints, and the pod templates of Kubernetes workload manifests). Built once, read by every analyzer.
 */

import { hostMatches, resolveHost, selects, visibleFrom, DOMAIN_SUFFIX, type AnyResource, type ForeignObject, type KindName, type ResourceOf } from '../api/index.ts';

export interface ServicePortInfo {
  readonly number: number;
  readonly name?: string;
  readonly protocol?: string;
  readonly targetPort?: number | string;
}

export interface ServiceInfo {
  /** FQDN (Service) or the ServiceEntry host as written (may be a wildcard). */
  readonly host: string;
  readonly namespace: string;
  readonly ports: readonly ServicePortInfo[];
  /** Service selector, or ServiceEntry workloadSelector labels. */
  readonly selector?: Readonly<Record<string, string>>;
  readonly exportTo?: readonly string[];
  readonly resource: AnyResource;
}

export interface WorkloadInfo {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount?: string;
  /** What declared it: `WorkloadEntry default/x`, `Deployment default/reviews-v1`… */
  readonly origin: string;
}

/** The mesh's root namespace: mesh-wide policies live here, as in Istio. */
export const ROOT_NAMESPACE = 'istio-system';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function stringMap(v: unknown): Record<string, string> {
  const r = record(v) ?? {};
  return Object.fromEntries(Object.entries(r).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
}

/** Pod labels and service account of a Kubernetes workload manifest. */
function podOf(obj: ForeignObject): { labels: Record<string, string>; serviceAccount?: string } | undefined {
  if (!WORKLOAD_KINDS.has(obj.kind)) return undefined;
  if (obj.kind === 'Pod') {
    const spec = record(obj.value['spec']);
    const sa = spec?.['serviceAccountName'];
    return { labels: stringMap(record(obj.value['metadata'])?.['labels']), ...(typeof sa === 'string' ? { serviceAccount: sa } : {}) };
  }
  let spec = record(obj.value['spec']);
  if (obj.kind === 'CronJob') spec = record(record(spec?.['jobTemplate'])?.['spec']);
  const template = record(spec?.['template']);
  const sa = record(template?.['spec'])?.['serviceAccountName'];
  return { labels: stringMap(record(template?.['metadata'])?.['labels']), ...(typeof sa === 'string' ? { serviceAccount: sa } : {}) };
}

/** Label selection (re-exported from the config API for analyzers). */
export const labelsMatch = selects;

export class AnalysisContext {
  readonly resources: readonly AnyResource[];
  readonly services: readonly ServiceInfo[];
  readonly workloads: readonly WorkloadInfo[];
  readonly namespaces: ReadonlySet<string>;
  readonly #byKind = new Map<string, AnyResource[]>();

  /**
   * `resources` may define one object twice (alternatives in one directory, or an edited copy): as with
   * `kubectl apply`, the later definition replaces the earlier one.
   */
  constructor(input: readonly AnyResource[], foreign: readonly ForeignObject[] = []) {
    const latest = new Map<string, AnyResource>();
    for (const r of input) latest.set(`${r.kind}/${r.metadata.namespace}/${r.metadata.name}`, r);
    const resources = [...latest.values()];
    this.resources = resources;
    for (const r of resources) {
      const list = this.#byKind.get(r.kind);
      if (list === undefined) this.#byKind.set(r.kind, [r]);
      else list.push(r);
    }
    this.services = this.#collectServices();
    this.workloads = this.#collectWorkloads(foreign);
    this.namespaces = new Set([
      ...resources.map((r) => (r.kind === 'Namespace' ? r.metadata.name : r.metadata.namespace)),
      ...foreign.map((f) => f.namespace),
    ]);
  }

  of<K extends KindName>(kind: K): readonly ResourceOf<K>[] {
    return (this.#byKind.get(kind) ?? []) as unknown as ResourceOf<K>[];
  }

  /** Whether the input declares any workload, so "selects nothing" findings are meaningful. */
  get workloadsKnown(): boolean {
    return this.workloads.length > 0;
  }

  /** Services that serve `host` (a FQDN or wildcard) as seen from namespace `from`. */
  servicesFor(host: string, from: string): ServiceInfo[] {
    return this.services.filter((s) => visibleFrom(s.exportTo, s.namespace, from) && (s.host === host || hostMatches(s.host, host)));
  }

  /** Workloads in `namespace` (any namespace when undefined) whose labels include `selector`. */
  workloadsMatching(selector: Readonly<Record<string, string>>, namespace?: string): WorkloadInfo[] {
    return this.workloads.filter((w) => (namespace === undefined || w.namespace === namespace) && labelsMatch(selector, w.labels));
  }

  resolve(host: string, namespace: string): string {
    return resolveHost(host, namespace);
  }

  #collectServices(): ServiceInfo[] {
    const out: ServiceInfo[] = [];
    for (const svc of this.of('Service')) {
      const ns = svc.metadata.namespace;
      out.push({
        host: `${svc.metadata.name}.${ns}.${DOMAIN_SUFFIX}`,
        namespace: ns,
        ports: (svc.spec.ports ?? []).map((p) => ({
          number: p.port,
          ...(p.name !== undefined ? { name: p.name } : {}),
          ...(p.appProtocol !== undefined ? { protocol: p.appProtocol } : {}),
          ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
        })),
        ...(svc.spec.selector !== undefined ? { selector: svc.spec.selector } : {}),
        resource: svc,
      });
    }
    for (const se of this.of('ServiceEntry')) {
      const spec = se.spec;
      for (const host of spec.hosts ?? []) {
        out.push({
          host: resolveHost(host, se.metadata.namespace),
          namespace: se.metadata.namespace,
          ports: (spec.ports ?? []).map((p) => ({ number: p.number, ...(p.name ? { name: p.name } : {}), ...(p.protocol ? { protocol: p.protocol } : {}) })),
          ...(spec.workloadSelector?.labels !== undefined ? { selector: spec.workloadSelector.labels } : {}),
          ...(spec.exportTo !== undefined ? { exportTo: spec.exportTo } : {}),
          resource: se,
        });
      }
    }
    return out;
  }

  #collectWorkloads(foreign: readonly ForeignObject[]): WorkloadInfo[] {
    const out: WorkloadInfo[] = [];
    for (const we of this.of('WorkloadEntry')) {
      const spec = we.spec;
      out.push({
        name: we.metadata.name, namespace: we.metadata.namespace, labels: spec.labels ?? {}, origin: `WorkloadEntry ${we.metadata.namespace}/${we.metadata.name}`,
        ...(spec.serviceAccount ? { serviceAccount: spec.serviceAccount } : {}),
      });
    }
    for (const se of this.of('ServiceEntry')) {
      const spec = se.spec;
      (spec.endpoints ?? []).forEach((ep, i) => {
        out.push({ name: `${se.metadata.name}[${i}]`, namespace: se.metadata.namespace, labels: ep.labels ?? {}, origin: `ServiceEntry ${se.metadata.namespace}/${se.metadata.name} endpoint ${ep.address ?? i}` });
      });
    }
    for (const f of foreign) {
      const pod = podOf(f);
      if (pod === undefined) continue;
      out.push({ name: f.name, namespace: f.namespace, labels: pod.labels, origin: `${f.kind} ${f.namespace}/${f.name}`, ...(pod.serviceAccount ? { serviceAccount: pod.serviceAccount } : {}) });
    }
    return out;
  }
}
