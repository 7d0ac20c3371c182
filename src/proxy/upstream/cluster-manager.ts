/**
 * The cluster manager: the proxy's clusters by name, fed by the CDS and EDS resource handlers, served to
 * the router and TCP proxy as `ClusterHandle`s.
 * - CDS (state of the world; also delta): each new or changed Cluster compiles into a new `Cluster`
 *   (inheriting the old one's pools when the pool settings match); identical resources are left alone;
 *   clusters missing from a complete set, or named in `removed`, are retired and their pools drained.
 * - EDS: ClusterLoadAssignments are kept by name (so a cluster created later, or replaced, gets its
 *   endpoints at once) and applied to every EDS cluster whose service name they carry.
 * - Whenever the set of EDS service names changes, the manager asks for exactly that set through
 *   `Subscriptions.want(EDS, names)`.
 */
import type { ClusterManager, Proto, ResourceHandler, Subscriptions } from '../core/contracts.ts';
import type { Stats } from '../core/stats.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { Cluster } from './cluster.ts';
import type { ClusterConfig } from './cluster-config.ts';
import { compileCluster } from './cluster-config.ts';
import type { DnsResolver } from './dns.ts';
import { systemResolver } from './dns.ts';
import type { Assignment } from './endpoints.ts';
import { compileAssignment, EMPTY_ASSIGNMENT, validateLoadAssignment } from './endpoints.ts';
import { builtinLbRegistry } from './lb/index.ts';
import type { LbRegistry } from './lb/registry.ts';
import type { LbEnv } from './lb/types.ts';
import { defaultEnv } from './lb/types.ts';
import { Problems } from './proto-read.ts';
import { registerBuiltinTransportSockets, TransportSocketRegistry } from './transport-sockets.ts';

export interface ClusterManagerOptions {
  readonly stats: Stats;
  readonly subscriptions: Subscriptions;
  readonly lb?: LbRegistry;
  readonly transportSockets?: TransportSocketRegistry;
  readonly env?: LbEnv;
  readonly dns?: DnsResolver;
  /** Monotonic milliseconds for outlier detection (tests inject a clock they move). */
  readonly now?: () => number;
}

/** An EDS resource as last applied. */
export interface EndpointsEntry {
  readonly resource: Proto;
  readonly assignment: Assignment;
  readonly updatedAt: number;
}

function sameResource(a: Proto, b: Proto): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export class ClusterManagerImpl implements ClusterManager {
  readonly cdsHandler: ResourceHandler;
  readonly edsHandler: ResourceHandler;
  readonly #clusters = new Map<string, Cluster>();
  readonly #endpoints = new Map<string, EndpointsEntry>();
  readonly #listeners = new Set<(name: string) => void>();
  readonly #options: ClusterManagerOptions;
  readonly #lb: LbRegistry;
  readonly #transportSockets: TransportSocketRegistry;
  /** Compilations made by `validate`, reused by `apply` for the same resource object. */
  readonly #compiled = new WeakMap<Proto, ClusterConfig>();
  #wantedEds = '';

  constructor(options: ClusterManagerOptions) {
    this.#options = options;
    this.#lb = options.lb ?? builtinLbRegistry();
    this.#transportSockets = options.transportSockets ?? registerBuiltinTransportSockets(new TransportSocketRegistry());
    this.cdsHandler = {
      typeUrl: TYPE.cluster,
      validate: (name, resource) => this.#validateCluster(name, resource),
      apply: (resources, removed, complete) => this.#applyClusters(resources, removed, complete),
    };
    this.edsHandler = {
      typeUrl: TYPE.endpoint,
      validate: (name, resource) => validateLoadAssignment(name, resource),
      apply: (resources, removed) => this.#applyEndpoints(resources, removed),
    };
  }

  cluster(name: string): Cluster | undefined {
    return this.#clusters.get(name);
  }

  clusters(): Cluster[] {
    return [...this.#clusters.values()];
  }

  endpoints(): ReadonlyMap<string, EndpointsEntry> {
    return this.#endpoints;
  }

  /**
   * Clusters still warming, as Envoy's: EDS clusters waiting for their first ClusterLoadAssignment, DNS
   * clusters whose names were not resolved (or failed) once yet.
   */
  warming(): string[] {
    return this.clusters().filter((c) => {
      if (c.config.type === 'EDS') return !this.#endpoints.has(c.config.edsServiceName ?? c.name);
      if (c.config.type === 'STRICT_DNS' || c.config.type === 'LOGICAL_DNS') return !c.dnsSettled;
      return false;
    }).map((c) => c.name);
  }

  /** Called with a cluster's name whenever it is added, replaced, removed or gets new hosts (EDS, DNS). */
  onChange(listener: (name: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(name: string): void {
    for (const l of this.#listeners) l(name);
  }

  #compile(resource: Proto): { config: ClusterConfig; problems: string[] } {
    const cached = this.#compiled.get(resource);
    if (cached !== undefined) return { config: cached, problems: [] };
    const out = compileCluster(resource, { lb: this.#lb, transportSockets: this.#transportSockets });
    if (out.problems.length === 0) this.#compiled.set(resource, out.config);
    return out;
  }

  #validateCluster(name: string, resource: Proto): string[] {
    const { config, problems } = this.#compile(resource);
    if (config.name !== '' && config.name !== name) problems.push(`name: does not match the resource name ${JSON.stringify(name)}`);
    return problems;
  }

  #applyClusters(resources: ReadonlyMap<string, Proto>, removed: readonly string[], complete: boolean): void {
    for (const [name, resource] of resources) {
      const old = this.#clusters.get(name);
      if (old !== undefined && sameResource(old.config.resource, resource)) continue;
      const { config, problems } = this.#compile(resource);
      // The xDS client validated first; a resource that still fails is skipped, never half-applied.
      if (problems.length > 0) continue;
      this.#replace(name, config, old);
    }
    const gone = complete ? [...this.#clusters.keys()].filter((n) => !resources.has(n)) : removed;
    for (const name of gone) {
      const old = this.#clusters.get(name);
      if (old === undefined) continue;
      this.#clusters.delete(name);
      void old.retire(true);
      old.clearMembershipGauges();
      this.#notify(name);
    }
    this.#updateEdsInterest();
  }

  #replace(name: string, config: ClusterConfig, old: Cluster | undefined): void {
    const deps = {
      stats: this.#options.stats,
      env: this.#options.env ?? defaultEnv,
      dns: this.#options.dns ?? systemResolver,
      ...(this.#options.now !== undefined ? { now: this.#options.now } : {}),
      onHostsChanged: (n: string) => {
        if (this.#clusters.get(n) === cluster) this.#notify(n);
      },
    };
    const cluster = new Cluster(config, deps, old);
    if (config.type === 'EDS') cluster.setAssignment(this.#endpoints.get(config.edsServiceName ?? name)?.assignment ?? EMPTY_ASSIGNMENT);
    cluster.start(old);
    this.#clusters.set(name, cluster);
    if (old !== undefined) void old.retire(true);
    this.#notify(name);
  }

  #updateEdsInterest(): void {
    const names = new Set<string>();
    for (const c of this.#clusters.values()) if (c.config.type === 'EDS') names.add(c.config.edsServiceName ?? c.name);
    const key = [...names].sort().join('\n');
    if (key === this.#wantedEds) return;
    this.#wantedEds = key;
    this.#options.subscriptions.want(TYPE.endpoint, names);
  }

  #applyEndpoints(resources: ReadonlyMap<string, Proto>, removed: readonly string[]): void {
    const changed = new Set<string>();
    for (const [name, resource] of resources) {
      const problems = new Problems();
      const assignment = compileAssignment(resource, '', problems, { requireIp: true });
      if (problems.list.length > 0) continue;
      this.#endpoints.set(name, { resource, assignment, updatedAt: Date.now() });
      changed.add(name);
    }
    for (const name of removed) if (this.#endpoints.delete(name)) changed.add(name);
    if (changed.size === 0) return;
    for (const c of this.#clusters.values()) {
      const service = c.config.edsServiceName;
      if (c.config.type !== 'EDS' || service === undefined || !changed.has(service)) continue;
      c.setAssignment(this.#endpoints.get(service)?.assignment ?? EMPTY_ASSIGNMENT);
      this.#notify(c.name);
    }
  }

  /** Retires every cluster: pools destroyed (`graceful` false) or drained. */
  async close(graceful = false): Promise<void> {
    const all = [...this.#clusters.values()];
    this.#clusters.clear();
    await Promise.all(all.map((c) => c.retire(graceful)));
  }
}
