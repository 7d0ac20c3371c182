/**
 * The service registry: services and workloads from config (`setConfig`) plus the workloads of
 * connected proxies (`addProxy` / `removeProxy`), published as an immutable `RegistrySnapshot` on every
 * change. A proxy whose stream ends is removed after a grace period, so a reconnecting proxy (control
 * plane restart, network blip) does not make its endpoints flap.
 */
import type { ResourceOf } from '../api/index.ts';
import type { RegistryConfig, RegistrySnapshot, Service, Workload } from './model.ts';
import { servicesFromConfig } from './services.ts';
import { entryWorkloadKey, patchSortedWorkloads, sortWorkloads, workloadKey, workloadOfEntry, workloadsFromConfig } from './workloads.ts';
import { buildRegistrySnapshot } from './snapshot.ts';
import { changedKeys, fingerprint, fingerprints, hostsSelecting, serviceKey, type RegistryChange } from './changes.ts';

export interface RegistryOptions {
  /** How long a disconnected proxy's workload stays registered (default 2000 ms). */
  readonly removalGraceMs?: number;
  /** Where a listener's exception is reported (default: stderr). */
  readonly log?: (message: string) => void;
}

export type RegistryListener = (snapshot: RegistrySnapshot, change: RegistryChange) => void;

/** A proxy's workload: `proxyId` identifies it (the ADS node id). */
export type ProxyWorkload = Workload & { readonly proxyId: string };

interface Publish {
  readonly before: RegistrySnapshot;
  readonly gone: readonly Workload[];
  readonly added: readonly Workload[];
  readonly hosts: Set<string>;
  readonly endpointsOnly: boolean;
  readonly reason: string;
}

/** Up to this many changed workloads, the next snapshot's order is patched rather than sorted again. */
const PATCH_LIMIT = 64;

export class Registry {
  readonly #graceMs: number;
  readonly #log: (message: string) => void;
  readonly #listeners = new Set<RegistryListener>();
  readonly #proxies = new Map<string, Workload>();
  readonly #removals = new Map<string, NodeJS.Timeout>();
  #services: readonly Service[] = [];
  #serviceFingerprints = new Map<string, string>();
  /** Workloads from config (WorkloadEntries, ServiceEntry endpoints) by `workloadKey`. */
  #configWorkloads = new Map<string, Workload>();
  #workloadFingerprints = new Map<string, string>();
  #snapshot: RegistrySnapshot = buildRegistrySnapshot(0, [], []);

  constructor(opts: RegistryOptions = {}) {
    this.#graceMs = opts.removalGraceMs ?? 2000;
    this.#log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
  }

  /** The registry as of now. */
  snapshot(): RegistrySnapshot {
    return this.#snapshot;
  }

  /** Registers a listener, called synchronously after every published change; returns its remover. */
  onChange(listener: RegistryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Rebuilds services and config workloads from `config`; publishes when anything changed. With
   * `changedResources`, the keys (`Kind/namespace/name`) of the resources that changed since the last call, a
   * change of WorkloadEntries only converts and compares those entries: the services, and every other
   * workload, are as they were.
   */
  setConfig(config: RegistryConfig, changedResources?: Iterable<string>): RegistrySnapshot {
    const entries = changedResources === undefined || config.find === undefined ? undefined : workloadEntryKeys(changedResources);
    if (entries !== undefined) return this.#setEntries(config, entries);
    const services = servicesFromConfig(config);
    const workloads = workloadsFromConfig(config);
    const serviceFps = fingerprints(services, serviceKey);
    const workloadFps = fingerprints(workloads, workloadKey);
    const changedServices = changedKeys(this.#serviceFingerprints, serviceFps);
    const changedWorkloads = new Set(changedKeys(this.#workloadFingerprints, workloadFps));
    if (changedServices.length === 0 && changedWorkloads.size === 0) return this.#snapshot;
    const before = this.#snapshot;
    const changed = (w: Workload) => changedWorkloads.has(workloadKey(w));
    // Unchanged services keep their objects, so caches keyed by them (and the snapshot's indexes) stay warm.
    if (changedServices.length > 0) {
      this.#services = services;
      this.#serviceFingerprints = serviceFps;
    }
    this.#configWorkloads = new Map(workloads.map((w) => [workloadKey(w), w]));
    this.#workloadFingerprints = workloadFps;
    const hosts = new Set(changedServices.map((k) => k.slice(k.lastIndexOf('/') + 1)));
    this.#publish({ before, gone: before.workloads.filter(changed), added: workloads.filter(changed), hosts, endpointsOnly: changedServices.length === 0, reason: 'config' });
    return this.#snapshot;
  }

  /** `setConfig` when only the WorkloadEntries with these keys changed. */
  #setEntries(config: RegistryConfig, keys: readonly string[]): RegistrySnapshot {
    const gone: Workload[] = [];
    const added: Workload[] = [];
    for (const key of keys) {
      const found = config.find!(key);
      const after = found === undefined ? undefined : workloadOfEntry(found as ResourceOf<'WorkloadEntry'>);
      const wkey = entryWorkloadKey(key);
      const before = this.#configWorkloads.get(wkey);
      if (after === undefined) this.#configWorkloads.delete(wkey);
      else this.#configWorkloads.set(wkey, after);
      const print = after === undefined ? undefined : fingerprint(after);
      if (print === this.#workloadFingerprints.get(wkey)) continue;
      if (print === undefined) this.#workloadFingerprints.delete(wkey);
      else this.#workloadFingerprints.set(wkey, print);
      // The snapshot holds the object of the last published version (an equal newer one is not published).
      const held = before === undefined ? undefined : this.#snapshot.workloads.find((w) => workloadKey(w) === wkey) ?? before;
      if (held !== undefined) gone.push(held);
      if (after !== undefined) added.push(after);
    }
    if (gone.length === 0 && added.length === 0) return this.#snapshot;
    this.#publish({ before: this.#snapshot, gone, added, hosts: new Set(), endpointsOnly: true, reason: 'config' });
    return this.#snapshot;
  }

  /** A proxy connected (or reconnected): its workload joins, replacing a pending removal. */
  addProxy(workload: ProxyWorkload): void {
    this.#cancelRemoval(workload.proxyId);
    const w: Workload = { ...workload, origin: 'proxy' };
    const old = this.#proxies.get(workload.proxyId);
    if (old !== undefined && JSON.stringify(old) === JSON.stringify(w)) return;
    const before = this.#snapshot;
    this.#proxies.set(workload.proxyId, w);
    this.#publish({ before, gone: old === undefined ? [] : [old], added: [w], hosts: new Set(), endpointsOnly: true, reason: old === undefined ? 'proxy-added' : 'proxy-updated' });
  }

  /** A proxy's stream ended: its workload leaves after the grace period unless it reconnects first. */
  removeProxy(proxyId: string): void {
    if (!this.#proxies.has(proxyId) || this.#removals.has(proxyId)) return;
    const timer = setTimeout(() => {
      this.#removals.delete(proxyId);
      const old = this.#proxies.get(proxyId);
      if (old === undefined) return;
      const before = this.#snapshot;
      this.#proxies.delete(proxyId);
      this.#publish({ before, gone: [old], added: [], hosts: new Set(), endpointsOnly: true, reason: 'proxy-removed' });
    }, this.#graceMs);
    timer.unref();
    this.#removals.set(proxyId, timer);
  }

  /** Cancels pending removals (the registry publishes nothing more from timers). */
  close(): void {
    for (const t of this.#removals.values()) clearTimeout(t);
    this.#removals.clear();
  }

  #cancelRemoval(proxyId: string): void {
    const t = this.#removals.get(proxyId);
    if (t !== undefined) clearTimeout(t);
    this.#removals.delete(proxyId);
  }

  /** Builds the next snapshot and tells listeners; `gone`/`added` are the old/new versions of changed workloads. */
  #publish(p: Publish): void {
    // A change of a few workloads patches the previous order; a bigger one sorts again.
    const workloads = p.gone.length + p.added.length <= PATCH_LIMIT
      ? patchSortedWorkloads(p.before.workloads, p.gone, p.added)
      : sortWorkloads([...this.#configWorkloads.values(), ...this.#proxies.values()]);
    const after = buildRegistrySnapshot(p.before.version + 1, this.#services, workloads);
    hostsSelecting(p.before, p.gone, p.hosts);
    hostsSelecting(after, p.added, p.hosts);
    this.#snapshot = after;
    const change: RegistryChange = { endpointsOnly: p.endpointsOnly, hosts: p.hosts, reason: p.reason };
    for (const l of this.#listeners) {
      try {
        l(after, change);
      } catch (e) {
        this.#log(`registry: a change listener failed: ${(e as Error).stack ?? String(e)}`);
      }
    }
  }
}

/** The keys among `changed` when all are WorkloadEntries (undefined when any other kind changed). */
function workloadEntryKeys(changed: Iterable<string>): string[] | undefined {
  const keys: string[] = [];
  for (const key of changed) {
    if (!key.startsWith('WorkloadEntry/')) return undefined;
    keys.push(key);
  }
  return keys;
}
