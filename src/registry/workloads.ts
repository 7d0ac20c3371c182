/**
 * Workloads from config: each `WorkloadEntry`, and each inline endpoint of a `ServiceEntry` (a workload
 * that only its own entry selects). Registered proxies are added by the `Registry`.
 * https://istio.io/latest/docs/reference/config/networking/workload-entry/
 */
import type { ResourceOf } from '../api/index.ts';
import type { RegistryConfig, Workload } from './model.ts';
import { partitionPoint } from '../util/sorted.ts';
import { memoized } from '../util/memo.ts';

type WorkloadFields = ResourceOf<'WorkloadEntry'>['spec'];

/**
 * Workloads converted per resource object. Config snapshots hand on the same object for a resource that
 * did not change, so a change of one WorkloadEntry among thousands converts one, and every other
 * workload keeps its object (and with it the keys and fingerprints memoised for it).
 */
const fromEntry = new WeakMap<object, Workload>();
const fromServiceEntry = new WeakMap<object, readonly Workload[]>();

/** Every workload declared by `config` (WorkloadEntries, then ServiceEntry endpoints). */
export function workloadsFromConfig(config: RegistryConfig): Workload[] {
  const out: Workload[] = [];
  for (const we of config.of('WorkloadEntry')) out.push(workloadOfEntry(we));
  for (const se of config.of('ServiceEntry')) for (const w of memoized(fromServiceEntry, se, serviceEntryWorkloads)) out.push(w);
  return out;
}

/** The workload of one WorkloadEntry (the same object for the same resource object). */
export function workloadOfEntry(we: ResourceOf<'WorkloadEntry'>): Workload {
  return memoized(fromEntry, we, entryWorkload);
}

function entryWorkload(we: ResourceOf<'WorkloadEntry'>): Workload {
  // Metadata labels are merged over spec labels, with precedence to metadata (Istio's ConvertWorkloadEntry).
  const labels = { ...we.spec.labels, ...we.metadata.labels };
  return toWorkload(we.metadata.name, we.metadata.namespace, we.spec, labels, 'WorkloadEntry');
}

function serviceEntryWorkloads(se: ResourceOf<'ServiceEntry'>): readonly Workload[] {
  const { name, namespace } = se.metadata;
  return (se.spec.endpoints ?? []).map((e, i) => ({ ...toWorkload(`${name}#${i}`, namespace, e, e.labels ?? {}, 'ServiceEntry'), serviceEntry: `${namespace}/${name}` }));
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

const keys = new WeakMap<Workload, string>();
const orderKeys = new WeakMap<Workload, string>();

/** The key that identifies a workload across snapshots (for change detection and debug output). */
export function workloadKey(w: Workload): string {
  return memoized(keys, w, makeWorkloadKey);
}

function makeWorkloadKey(w: Workload): string {
  return w.origin === 'proxy' ? `proxy:${w.proxyId ?? `${w.namespace}/${w.name}`}` : `${w.origin}:${w.namespace}/${w.name}`;
}

/** `workloadKey` of the workload of the WorkloadEntry whose resource key is `WorkloadEntry/namespace/name` (present or deleted). */
export function entryWorkloadKey(resourceKey: string): string {
  return `WorkloadEntry:${resourceKey.slice(resourceKey.indexOf('/') + 1)}`;
}

const orderKey = (w: Workload): string => memoized(orderKeys, w, makeOrderKey);
const makeOrderKey = (w: Workload): string => `${w.namespace}\u0000${w.name}\u0000${workloadKey(w)}`;

function compareWorkloads(a: Workload, b: Workload): number {
  const ka = orderKey(a);
  const kb = orderKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Workloads in a stable order (namespace, name, then identity), the order endpoints come in. */
export function sortWorkloads(workloads: Iterable<Workload>): Workload[] {
  return [...workloads].sort(compareWorkloads);
}

/**
 * `sorted` (in `sortWorkloads` order) without `gone` and with `added`, kept in order without sorting
 * everything again: what a change of a few workloads among thousands costs is a copy, not a sort.
 */
export function patchSortedWorkloads(sorted: readonly Workload[], gone: readonly Workload[], added: readonly Workload[]): Workload[] {
  const drop = new Set(gone);
  const out = drop.size === 0 ? sorted.slice() : sorted.filter((w) => !drop.has(w));
  for (const w of sortWorkloads(added)) out.splice(partitionPoint(out, (x) => compareWorkloads(x, w) <= 0), 0, w);
  return out;
}
