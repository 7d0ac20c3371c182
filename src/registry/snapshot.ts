/**
 * The immutable `RegistrySnapshot`: services and workloads plus the indexes generators query
 * (services by host, endpoints per service port, the services that select a workload). Endpoints are
 * computed on first use and memoised; the snapshot never changes after it is built.
 *
 * Building one is cheap because proxies join in bursts and only the last snapshot of a debounced burst
 * is queried: workload indexes are built on first query, and service indexes are shared by every
 * snapshot built from the same `services` array (precondition: that array is never mutated).
 */
import type { Endpoint, RegistrySnapshot, Service, Workload } from './model.ts';
import { endpointsOf } from './endpoints.ts';
import { selects } from './names.ts';

const NONE: readonly never[] = Object.freeze([]);
/** Selections answered by scanning the workloads before a snapshot indexes them. */
const SCANS_BEFORE_INDEX = 4;

interface ServiceIndexes {
  readonly byHost: ReadonlyMap<string, readonly Service[]>;
  /** Services with a selector, by namespace. */
  readonly selecting: ReadonlyMap<string, readonly Service[]>;
  /** ServiceEntry services by `namespace/name` of the entry. */
  readonly byEntry: ReadonlyMap<string, readonly Service[]>;
}

interface WorkloadIndexes {
  /** Selectable workloads (not ServiceEntry inline endpoints) by namespace. */
  readonly byNamespace: ReadonlyMap<string, readonly Workload[]>;
  /** Selectable workloads by `namespace, label key, label value`. */
  readonly byLabel: ReadonlyMap<string, readonly Workload[]>;
}

const serviceIndexCache = new WeakMap<readonly Service[], ServiceIndexes>();

function serviceIndexes(services: readonly Service[]): ServiceIndexes {
  let idx = serviceIndexCache.get(services);
  if (idx === undefined) {
    idx = {
      byHost: groupBy(services, (s) => s.hostname),
      selecting: groupBy(services.filter((s) => s.selector !== undefined), (s) => s.namespace),
      byEntry: groupBy(services.filter((s) => s.kind === 'ServiceEntry'), (s) => `${s.namespace}/${s.name}`),
    };
    serviceIndexCache.set(services, idx);
  }
  return idx;
}

function workloadIndexes(workloads: readonly Workload[]): WorkloadIndexes {
  const selectable = workloads.filter((w) => w.origin !== 'ServiceEntry');
  const byLabel = new Map<string, Workload[]>();
  for (const w of selectable) {
    for (const k in w.labels) {
      const key = labelKey(w.namespace, k, w.labels[k]!);
      const list = byLabel.get(key);
      if (list === undefined) byLabel.set(key, [w]);
      else list.push(w);
    }
  }
  return { byNamespace: groupBy(selectable, (w) => w.namespace), byLabel };
}

function labelKey(namespace: string, key: string, value: string): string {
  return `${namespace}\u0000${key}\u0000${value}`;
}

/** Builds a snapshot; `services` and `workloads` should already be sorted (the order is kept). */
export function buildRegistrySnapshot(version: number, services: readonly Service[], workloads: readonly Workload[]): RegistrySnapshot {
  const svcIdx = serviceIndexes(services);
  let wIdx: WorkloadIndexes | undefined;
  const wl = () => (wIdx ??= workloadIndexes(workloads));
  /** ServiceEntry inline endpoints by `namespace/name` of the entry. */
  let inlineIdx: Map<string, Workload[]> | undefined;
  const inlineOf = (entry: string) => (inlineIdx ??= groupBy(workloads.filter((w) => w.serviceEntry !== undefined), (w) => w.serviceEntry!)).get(entry) ?? NONE;
  const selected = new Map<object, readonly Workload[]>();
  const endpointCache = new Map<Service, Map<number, readonly Endpoint[]>>();
  const servicesOfCache = new Map<Workload, readonly Service[]>();

  /**
   * Workloads of `namespace` matching `selector`, memoised per selector object (one per service). The
   * first few selections scan the workloads: an endpoint change queries the services of a host or two,
   * and a scan is cheaper than indexing thousands of workloads; a snapshot queried more builds the index.
   */
  let scans = 0;
  const select = (namespace: string, selector: Readonly<Record<string, string>>): readonly Workload[] => {
    let list = selected.get(selector);
    if (list === undefined) {
      if (wIdx === undefined && scans++ < SCANS_BEFORE_INDEX) {
        list = workloads.filter((w) => w.origin !== 'ServiceEntry' && w.namespace === namespace && selects(selector, w.labels));
      } else {
        const first = Object.keys(selector)[0];
        const candidates = first === undefined ? wl().byNamespace.get(namespace) : wl().byLabel.get(labelKey(namespace, first, selector[first]!));
        list = (candidates ?? NONE).filter((w) => selects(selector, w.labels));
      }
      selected.set(selector, list);
    }
    return list;
  };

  const endpoints = (service: Service, port: number): readonly Endpoint[] => {
    let perPort = endpointCache.get(service);
    if (perPort === undefined) endpointCache.set(service, (perPort = new Map()));
    let list = perPort.get(port);
    if (list === undefined) {
      const sp = service.ports.find((p) => p.port === port);
      const inline = service.kind === 'ServiceEntry' ? inlineOf(`${service.namespace}/${service.name}`) : NONE;
      list = sp === undefined ? NONE : Object.freeze(endpointsOf(service, sp, select, inline));
      perPort.set(port, list);
    }
    return list;
  };

  const servicesOf = (workload: Workload): readonly Service[] => {
    let list = servicesOfCache.get(workload);
    if (list === undefined) {
      list = workload.serviceEntry !== undefined
        ? (svcIdx.byEntry.get(workload.serviceEntry) ?? NONE)
        : (svcIdx.selecting.get(workload.namespace) ?? NONE).filter((s) => selects(s.selector!, workload.labels));
      servicesOfCache.set(workload, list);
    }
    return list;
  };

  return {
    version,
    services,
    workloads,
    servicesByHost: (hostname) => svcIdx.byHost.get(hostname) ?? NONE,
    endpoints,
    servicesOf,
  };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list === undefined) out.set(k, [it]);
    else list.push(it);
  }
  return out;
}
