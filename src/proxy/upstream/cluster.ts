/**
 * One cluster at one config version: the `ClusterHandle` the router and TCP proxy use. It owns the
 * current membership and picker (replaced as a whole on every EDS or DNS update, and when outlier
 * detection ejects a host or brings one back), the host states with their pools, the circuit breakers,
 * the outlier detector, and its discovery machinery (DNS targets, ORIGINAL_DST hosts).
 * A CDS update builds a new `Cluster` that inherits the old one's host states when the pool settings
 * are unchanged, so kept-alive connections survive config changes as well as endpoint changes, and so
 * do outlier counters and ejections (a version without outlier detection returns every host).
 */
import type { Socket } from 'node:net';
import type { ClusterHandle, PickContext, UpstreamHost } from '../core/contracts.ts';
import type { Stats } from '../core/stats.ts';
import type { ClusterConfig } from './cluster-config.ts';
import { ClusterStats } from './cluster-stats.ts';
import type { PoolContext } from './connection-pool.ts';
import { closeHost, connectTcp, destroyHost, hostDispatcher, poolSettingsKey, type HostDispatcher } from './connection-pool.ts';
import type { DnsResolver } from './dns.ts';
import { DnsTarget } from './dns.ts';
import type { Assignment, LocalityGroup } from './endpoints.ts';
import { EMPTY_ASSIGNMENT } from './endpoints.ts';
import { addressString, HostImpl, HostState } from './host.ts';
import type { LbEnv } from './lb/types.ts';
import { buildMembership } from './membership.ts';
import { OriginalDstHosts } from './original-dst.ts';
import { OutlierDetector } from './outlier-detection.ts';
import type { LocalityInput } from './picker.ts';
import { Picker } from './picker.ts';

export interface ClusterDeps {
  readonly stats: Stats;
  readonly env: LbEnv;
  readonly dns: DnsResolver;
  /** Monotonic milliseconds for outlier detection (`performance.now` unless a test injects a clock). */
  readonly now?: () => number;
  /** Told when the cluster's hosts change on their own (DNS answers), not on EDS or CDS updates. */
  readonly onHostsChanged?: (name: string) => void;
}

export class Cluster implements ClusterHandle {
  readonly name: string;
  readonly http2: boolean;
  readonly connectTimeoutMs: number;
  readonly usesHash: boolean;
  readonly useDownstreamProtocol: boolean;
  readonly originalDstHeader: string | undefined;
  readonly config: ClusterConfig;
  readonly stats: ClusterStats;
  readonly pool: PoolContext;
  /** When this version of the cluster was applied (ms since epoch), for config_dump. */
  readonly createdAt: number;
  readonly #deps: ClusterDeps;
  #assignment: Assignment = EMPTY_ASSIGNMENT;
  #hosts: readonly HostImpl[] = [];
  #states = new Map<string, HostState>();
  #levels: readonly (readonly LocalityInput<HostImpl>[])[] = [];
  #picker: Picker<HostImpl> | undefined;
  readonly #outlier: OutlierDetector | undefined;
  #dns: DnsTarget[] = [];
  #originalDst: OriginalDstHosts | undefined;
  #retired = false;

  constructor(config: ClusterConfig, deps: ClusterDeps, previous?: Cluster) {
    this.name = config.name;
    this.config = config;
    this.http2 = config.http.protocol === 'http2';
    // Only the hash-picking policies (RING_HASH, MAGLEV: those built per priority) read a request hash.
    this.usesHash = config.lb?.policy.scope === 'priority';
    this.useDownstreamProtocol = config.http.protocol === 'downstream';
    this.connectTimeoutMs = config.connectTimeoutMs;
    this.originalDstHeader = config.originalDst?.useHttpHeader === true ? config.originalDst.headerName : undefined;
    this.stats = new ClusterStats(deps.stats, config.statName);
    this.pool = {
      cluster: config.name,
      stats: this.stats,
      settings: { connectTimeoutMs: config.connectTimeoutMs, maxConnections: config.limits.maxConnections, http: config.http, tcpKeepaliveMs: config.tcpKeepaliveMs, sourceAddress: config.sourceAddress },
    };
    this.createdAt = Date.now();
    this.#deps = deps;
    if (previous !== undefined && previous.#canShareHostsWith(this)) this.#states = previous.#takeStates();
    // ORIGINAL_DST hosts come and go per connection: they are not watched.
    this.#outlier = config.outlier === undefined || config.type === 'ORIGINAL_DST' ? undefined : new OutlierDetector(config.outlier, {
      stats: deps.stats,
      prefix: this.stats.prefix,
      now: deps.now ?? (() => performance.now()),
      random: deps.env.random,
      onHealthChange: () => this.#healthChanged(),
    });
    if (this.#outlier !== undefined) this.#outlier.setHosts(this.#states.values());
    else {
      for (const s of this.#states.values()) s.outlier = undefined;
      // Outlier detection gone: no host is ejected, whatever the version before counted (its detector
      // owns the gauge and zeroes it).
      if (previous !== undefined) previous.#outlier?.setHosts([]);
    }
    if (config.type === 'ORIGINAL_DST') {
      this.#originalDst = new OriginalDstHosts(config.originalDst!, this.#states, (s) => {
        void closeHost(s);
        this.#updateGauges();
      });
      this.#updateGauges();
    }
  }

  #canShareHostsWith(next: Cluster): boolean {
    return !this.#retired && this.config.statName === next.config.statName && this.config.type === next.config.type
      && poolSettingsKey(this.pool.settings) === poolSettingsKey(next.pool.settings);
  }

  #takeStates(): Map<string, HostState> {
    const states = this.#states;
    this.#states = new Map();
    this.#hosts = [];
    return states;
  }

  /** Starts discovery: static endpoints apply now, DNS names resolve in the background. */
  start(seed?: Cluster): void {
    if (this.config.type === 'STATIC') this.setAssignment(this.config.assignment);
    else if (this.config.type === 'STRICT_DNS' || this.config.type === 'LOGICAL_DNS') this.#startDns(seed);
  }

  #startDns(seed: Cluster | undefined): void {
    const sameTargets = seed !== undefined && seed.config.type === this.config.type
      && JSON.stringify(seed.config.assignment) === JSON.stringify(this.config.assignment);
    const names = new Set(this.config.assignment.groups.flatMap((g) => g.endpoints.map((e) => e.address)));
    this.#dns = [...names].map((name) => {
      const previous = sameTargets ? seed.#dns.find((t) => t.name === name)?.addresses : undefined;
      return new DnsTarget(name, this.config.dns!, this.#deps.dns, () => this.#applyDns(), previous);
    });
    if (sameTargets) this.#applyDns();
    for (const t of this.#dns) t.start();
  }

  /** Rebuilds the assignment from the resolved names: every address for STRICT_DNS, the first for LOGICAL_DNS. */
  #applyDns(): void {
    const logical = this.config.type === 'LOGICAL_DNS';
    const resolved = new Map(this.#dns.map((t) => [t.name, t.addresses ?? []]));
    const groups: LocalityGroup[] = this.config.assignment.groups.map((g) => ({
      ...g,
      endpoints: g.endpoints.flatMap((e) => {
        const addrs = resolved.get(e.address) ?? [];
        return (logical ? addrs.slice(0, 1) : addrs).map((address) => ({ ...e, address, hostname: e.hostname || e.address }));
      }),
    }));
    this.setAssignment({ ...this.config.assignment, groups });
    this.#deps.onHostsChanged?.(this.name);
  }

  /** DNS clusters: whether every name was resolved (or failed) once — Envoy warms them until then. */
  get dnsSettled(): boolean {
    return this.#dns.every((t) => t.settled);
  }

  /** Removal from the config: membership gauges drop to 0 (replacement keeps them, the new version owns them). */
  clearMembershipGauges(): void {
    const g = this.stats.g;
    g.membership_total.value = 0;
    g.membership_healthy.value = 0;
    g.membership_degraded.value = 0;
    if (this.#outlier !== undefined) this.#outlier.setHosts([]);
  }

  /** The outlier detector, when the cluster has outlier detection (admin output). */
  get outlierDetector(): OutlierDetector | undefined {
    return this.#outlier;
  }

  /** Applies new endpoints (EDS, static or resolved DNS): new membership, new picker. */
  setAssignment(a: Assignment): void {
    if (this.#retired) return;
    this.#assignment = a;
    const m = buildMembership(a, { states: this.#states, hosts: this.#hosts }, { logical: this.config.type === 'LOGICAL_DNS' });
    for (const s of m.removed) void closeHost(s);
    this.#states = new Map(m.states);
    this.#hosts = m.hosts;
    this.#levels = m.levels;
    this.#outlier?.setHosts(this.#states.values());
    this.#buildPicker();
    if (m.changed) this.stats.c.membership_change.value++;
    this.stats.c.update_success.value++;
    if (m.hosts.length === 0) this.stats.c.update_empty.value++;
    this.#updateGauges();
  }

  #buildPicker(): void {
    const lb = this.config.lb;
    const a = this.#assignment;
    this.#picker = lb === undefined ? undefined : new Picker({
      levels: this.#levels,
      overprovisioningFactor: a.overprovisioningFactor,
      weightedPriorityHealth: a.weightedPriorityHealth,
      panicThreshold: this.config.panicThreshold,
      lb,
      env: this.#deps.env,
      panicCounter: this.stats.c.lb_healthy_panic,
    });
  }

  /** Outlier detection ejected hosts or returned them: the picker sees their new availability. */
  #healthChanged(): void {
    if (this.#retired) return;
    this.#buildPicker();
    this.#updateGauges();
  }

  #updateGauges(): void {
    const hosts = this.hosts();
    const g = this.stats.g;
    g.membership_total.value = hosts.length;
    g.membership_healthy.value = hosts.filter((h) => h.availability === 'healthy').length;
    g.membership_degraded.value = hosts.filter((h) => h.availability === 'degraded').length;
  }

  /** The current hosts, by priority (ORIGINAL_DST: those made so far). */
  hosts(): readonly HostImpl[] {
    return this.#originalDst !== undefined ? this.#originalDst.hosts() : this.#hosts;
  }

  get assignment(): Assignment {
    return this.#assignment;
  }

  pick(ctx?: PickContext): HostImpl | undefined {
    if (this.#originalDst !== undefined) {
      const before = this.#originalDst.size;
      const host = this.#originalDst.pick(ctx?.originalDestination);
      if (host === undefined && ctx?.originalDestination !== undefined) this.stats.c.original_dst_host_invalid.value++;
      if (this.#originalDst.size !== before) this.#updateGauges();
      return host;
    }
    return this.#picker?.pick(ctx);
  }

  #state(host: UpstreamHost): HostState {
    if (host instanceof HostImpl) return host.state;
    // A host this cluster did not hand out: serve it anyway, with a pool of its own.
    const key = addressString(host.address, host.port);
    let state = this.#states.get(key);
    if (state === undefined) {
      state = new HostState(key, host.address, host.port);
      this.#states.set(key, state);
    }
    return state;
  }

  dispatcher(host: UpstreamHost): HostDispatcher {
    return hostDispatcher(this.#state(host), this.pool, this.http2);
  }

  /** The dispatcher speaking HTTP/2 or HTTP/1.1, for clusters that follow the downstream protocol. */
  dispatcherFor(host: UpstreamHost, http2: boolean): HostDispatcher {
    return hostDispatcher(this.#state(host), this.pool, http2);
  }

  connect(host: UpstreamHost): Promise<Socket> {
    return connectTcp(this.#state(host), this.pool);
  }

  admit(): boolean {
    const { limits } = this.config;
    const g = this.stats.g;
    const rqFull = g.upstream_rq_active.value >= limits.maxRequests;
    const pendingFull = g.upstream_rq_pending_active.value >= limits.maxPendingRequests;
    g['circuit_breakers.default.rq_open'].value = rqFull ? 1 : 0;
    g['circuit_breakers.default.rq_pending_open'].value = pendingFull ? 1 : 0;
    if (rqFull || pendingFull) {
      this.stats.c.upstream_rq_pending_overflow.value++;
      return false;
    }
    return true;
  }

  counter(name: string): { value: number } {
    return this.stats.get(name);
  }

  /**
   * Stops discovery. `graceful`: close every host's pools once their requests finish (the cluster was
   * removed or replaced by one that did not take its hosts); otherwise destroy them now (shutdown).
   */
  retire(graceful: boolean): Promise<void> {
    this.#retired = true;
    this.#outlier?.retire();
    for (const t of this.#dns) t.stop();
    this.#originalDst?.stop();
    const states = [...this.#states.values()];
    this.#states = new Map();
    return Promise.all(states.map((s) => (graceful ? closeHost(s) : destroyHost(s)))).then(() => undefined);
  }
}
