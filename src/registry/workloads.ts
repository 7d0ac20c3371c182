/**
 * Workloads from config: each `WorkloadEntry`, and each inline endpoint of a `ServiceEntry` (a workload
 * that only its own entry selects). Registered proxies are added by the `Registry`.
 * https://istio.io/latest/docs/reference/config/networking/workload-entry/
 */
import type { ResourceOf } from '../api/index.ts';
import type { RegistryConfig, Workload } from './model.ts';

type WorkloadFields = ResourceOf<'WorkloadEntry'>['spec'];

/** Every workload declared by `config` (WorkloadEntries, then ServiceEntry endpoints). */
export function workloadsFromConfig(config: RegistryConfig): Workload[] {
  const out: Workload[] = [];
  for (const we of config.of('WorkloadEntry')) {
    // Metadata labels are merged over spec labels, with precedence to metadata (Istio's ConvertWorkloadEntry).
    const labels = { ...we.spec.labels, ...we.metadata.labels };
    out.push(toWorkload(we.metadata.name, we.metadata.namespace, we.spec, labels, 'WorkloadEntry'));
  }
  for (const se of config.of('ServiceEntry')) {
    const { name, namespace } = se.metadata;
    (se.spec.endpoints ?? []).forEach((e, i) => {
      out.push({ ...toWorkload(`${name}#${i}`, namespace, e, e.labels ?? {}, 'ServiceEntry'), serviceEntry: `${namespace}/${name}` });
    });
  }
  return out;
}

function toWorkload(name: string, namespace: string, spec: WorkloadFields, labels: Readonly<Record<string, string>>, origin: Workload['origin']): Workload {
  return {
    name,
    namespace,
    labels,
    serviceAccount: spec.serviceAccount || 'default',
    address: spec.address ?? '',
    namedPorts: spec.ports ?? {},
    ...(spec.locality ? { locality: spec.locality } : {}),
    ...(spec.network ? { network: spec.network } : {}),
    // Envoy rejects a load-balancing weight of 0; Istio treats an unset (0) weight as 1.
    weight: spec.weight || 1,
    healthy: true,
    origin,
  };
}

/** The key that identifies a workload across snapshots (for change detection and debug output). */
export function workloadKey(w: Workload): string {
  if (w.origin === 'proxy') return `proxy:${w.proxyId ?? `${w.namespace}/${w.name}`}`;
  return `${w.origin}:${w.namespace}/${w.name}`;
}

/** Workloads in a stable order (namespace, name, then identity), the order endpoints come in. */
export function sortWorkloads(workloads: Iterable<Workload>): Workload[] {
  const keyed: [string, Workload][] = [];
  for (const w of workloads) keyed.push([`${w.namespace}\u0000${w.name}\u0000${workloadKey(w)}`, w]);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return keyed.map((k) => k[1]);
}
