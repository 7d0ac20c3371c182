/**
 * The listener manager: LDS's `ResourceHandler`. It validates Listener resources (all problems, for
 * the NACK), and applies the complete set: new listeners are built and bound, changed ones get a new
 * version, missing ones are removed — without dropping connections:
 * - a new version warms until the proxy's `ready(listener)` predicate says its routes and clusters are
 *   present (Envoy's listener warming), while the old version keeps serving;
 * - an active new version with the same address takes the same socket (new connections switch at
 *   once); with a new address it binds first and only then replaces the old one (make before break);
 * - chains whose filters did not change keep their runtime and connections (in-place update); the
 *   others drain: the filter stops taking streams, connections get the drain time, then are closed;
 * - a removed listener stops accepting and drains the same way.
 * `bind_to_port: false` listeners are never bound; they serve connections handed off by a listener
 * with `use_original_dst`. `api_listener` listeners (proxyless gRPC) are kept and not served.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/lds
 */
import type { ClusterManager, NetworkFilterDeps, Proto, ResourceHandler, RouteStore, Subscriptions } from '../core/contracts.ts';
import type { Stats } from '../core/stats.ts';
import { TYPE } from '../../xds/type-urls.ts';
import type { NetworkFilterRegistry } from '../network/registry.ts';
import type { BoundSocket } from './bound-socket.ts';
import { ChainRuntime } from './chain-runtime.ts';
import { compileListener } from './compile-listener.ts';
import type { CompileContext, CompiledChain, CompiledListener } from './compile-listener.ts';
import { registerBuiltinListenerFilters } from './builtins.ts';
import { ListenerFilterRegistry } from './listener-filter.ts';
import { listenerStatName, listenerStats, managerStats } from './listener-stats.ts';
import type { ManagerStats } from './listener-stats.ts';
import { entryStatus, newEntry } from './listener-entry.ts';
import type { Entry, ListenersDump, ListenerStatus } from './listener-entry.ts';
import { ListenerVersion } from './listener-version.ts';
import type { VersionContext } from './listener-version.ts';
import { SocketPool } from './socket-pool.ts';

export type { ListenerState, ListenerStatus, ListenersDump } from './listener-entry.ts';

export interface ListenerManagerOptions {
  readonly networkFilters: NetworkFilterRegistry;
  /** Listener filters; default: the built-ins (TLS and HTTP inspectors, original_dst in local mode). */
  readonly listenerFilters?: ListenerFilterRegistry;
  readonly clusters: ClusterManager;
  readonly routes: RouteStore;
  readonly stats: Stats;
  readonly subscriptions: Subscriptions;
  /** Whether a listener's dependencies (RDS routes, clusters) are present; default: always. */
  readonly ready?: (listener: Proto) => boolean;
  /** How long draining connections get before they are closed (default 5,000 ms). */
  readonly drainTimeoutMs?: number;
  /** Open connections allowed per listener (default unlimited); over it, new ones are closed (`downstream_cx_overflow`). */
  readonly maxConnections?: number | ((listenerName: string) => number | undefined);
  /** Listener updates and their problems (Envoy's `config` logger). */
  readonly log?: (line: string) => void;
  /** Failures while handling an accepted connection (Envoy's `conn_handler` logger); default `log`. */
  readonly connectionLog?: (line: string) => void;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

function allChains(c: CompiledListener): CompiledChain[] {
  return c.defaultChain === undefined ? [...c.chains] : [...c.chains, c.defaultChain];
}

export class ListenerManager implements ResourceHandler {
  readonly typeUrl = TYPE.listener;
  readonly #opts: ListenerManagerOptions;
  readonly #compileCtx: CompileContext;
  readonly #versionCtx: VersionContext;
  readonly #stats: ManagerStats;
  readonly #log: (line: string) => void;
  readonly #drainMs: number;
  /** Compiled by `validate`, reused by `apply` for the same resource object. */
  readonly #compiled = new WeakMap<Proto, CompiledListener>();
  readonly #entries = new Map<string, Entry>();
  readonly #sockets = new SocketPool();
  /** Active `bind_to_port: false` listeners by `host:port`, for original-destination hand-off. */
  readonly #virtual = new Map<string, Entry>();
  readonly #draining = new Set<ChainRuntime>();
  readonly #binds = new Set<Promise<void>>();
  #drainWaiters: (() => void)[] = [];
  #refreshQueued = false;
  readonly #unsubscribe: () => void;

  constructor(opts: ListenerManagerOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? (() => {});
    this.#drainMs = opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.#stats = managerStats(opts.stats);
    this.#compileCtx = {
      networkFilters: opts.networkFilters,
      listenerFilters: opts.listenerFilters ?? registerBuiltinListenerFilters(new ListenerFilterRegistry()),
      stats: opts.stats,
    };
    this.#versionCtx = {
      log: opts.connectionLog ?? this.#log,
      handoff: (address, port) => this.#handoff(address, port),
      current: (name) => this.#entries.get(name)?.active,
      inspecting: new Set(),
    };
    this.#unsubscribe = opts.routes.onChange(() => this.#queueRefresh());
  }

  validate(name: string, resource: Proto): string[] {
    const problems: string[] = [];
    const compiled = compileListener(name, resource, this.#compileCtx, problems);
    if (problems.length === 0) this.#compiled.set(resource, compiled);
    return problems;
  }

  apply(resources: ReadonlyMap<string, Proto>, removed: readonly string[], complete: boolean): void {
    for (const [name, proto] of resources) this.#update(name, proto);
    for (const name of removed) if (!resources.has(name)) this.#remove(name);
    if (complete) for (const name of [...this.#entries.keys()]) if (!resources.has(name)) this.#remove(name);
    this.#settle();
  }

  /** Re-checks warming listeners against `ready` (call after clusters or routes change). */
  refreshWarming(): void {
    for (const entry of this.#entries.values()) {
      const next = entry.next;
      if (next?.state === 'warming' && !entry.stopped && this.#isReady(next.compiled)) this.#start(entry, next);
    }
    this.#settle();
  }

  /** Resolves once every pending bind has succeeded or failed (tests, startup). */
  async settled(): Promise<void> {
    while (this.#binds.size > 0) await Promise.allSettled([...this.#binds]);
  }

  status(name: string): ListenerStatus | undefined {
    const entry = this.#entries.get(name);
    return entry === undefined ? undefined : entryStatus(entry);
  }

  listeners(): ListenerStatus[] {
    return [...this.#entries.values()].map((e) => entryStatus(e)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** What is in force, for `/config_dump` (Envoy's dynamic active / warming / draining listeners). */
  dump(): ListenersDump {
    const active: ListenersDump['active'][number][] = [];
    const warming: ListenersDump['warming'][number][] = [];
    for (const e of this.#entries.values()) {
      const served = e.active?.compiled ?? e.api;
      if (served !== undefined) active.push({ name: e.name, listener: served.proto });
      if (e.next !== undefined) warming.push({ name: e.name, listener: e.next.compiled.proto });
    }
    const draining = [...this.#draining].map((r) => ({ name: r.listener, connections: r.connections }));
    return { active, warming, draining };
  }

  /**
   * Stops accepting on every listener (or the inbound ones) and drains their connections (admin
   * `/drain_listeners`, graceful shutdown). Stopped listeners stay stopped through later updates.
   * Resolves when every draining connection has closed or was closed at the end of the drain time.
   */
  drainListeners(options: { readonly inboundOnly?: boolean } = {}): Promise<void> {
    for (const entry of this.#entries.values()) {
      if (options.inboundOnly === true && (entry.next ?? entry.active)?.compiled.direction !== 'INBOUND') continue;
      entry.stopped = true;
      this.#takeDown(entry);
    }
    this.#settle();
    return this.#whenDrained();
  }

  /** Closes everything now: sockets, connections (also those in listener filters), filters. */
  async close(): Promise<void> {
    this.#unsubscribe();
    for (const entry of this.#entries.values()) this.#takeDown(entry);
    this.#entries.clear();
    for (const socket of this.#versionCtx.inspecting) socket.destroy();
    for (const runtime of [...this.#draining]) runtime.destroy();
    this.#settle();
    await Promise.allSettled([...this.#binds, this.#sockets.closed()]);
  }

  #update(name: string, proto: Proto): void {
    const compiled = this.#compile(name, proto);
    let entry = this.#entries.get(name);
    if (compiled === undefined || entry?.text === compiled.text) return;
    if (entry === undefined) {
      entry = newEntry(name, this.#maxConnections(name));
      this.#entries.set(name, entry);
      this.#stats.added.value++;
    } else this.#stats.modified.value++;
    entry.text = compiled.text;
    entry.error = undefined;
    if (entry.next !== undefined) this.#discard(entry, entry.next);
    if (compiled.api) {
      if (entry.active !== undefined) this.#retire(entry, entry.active);
      entry.api = compiled;
      return;
    }
    entry.api = undefined;
    const version = this.#build(entry, compiled);
    if (version === undefined) return;
    entry.next = version;
    if (!entry.stopped && this.#isReady(compiled)) this.#start(entry, version);
  }

  #compile(name: string, proto: Proto): CompiledListener | undefined {
    const cached = this.#compiled.get(proto);
    if (cached !== undefined) return cached;
    const problems: string[] = [];
    const compiled = compileListener(name, proto, this.#compileCtx, problems);
    if (problems.length === 0) return compiled;
    // The xDS client validates before applying; reaching here means it did not. Keep the last good.
    this.#stats.createFailure.value++;
    this.#log(`listener ${name} rejected: ${problems.join('; ')}`);
    return undefined;
  }

  /** A version with a runtime per chain: reused when an equal chain is live, else built by its factory. */
  #build(entry: Entry, compiled: CompiledListener): ListenerVersion | undefined {
    const deps: NetworkFilterDeps = { ...this.#depsBase(), listener: { name: entry.name, direction: compiled.direction } };
    const runtimes = new Map<CompiledChain, ChainRuntime>();
    const created: ChainRuntime[] = [];
    try {
      for (const chain of allChains(compiled)) {
        const key = `${compiled.direction}|${chain.key}`;
        let runtime = entry.runtimes.get(key);
        if (runtime === undefined) {
          const filter = chain.filter?.factory.create(chain.filter.config, deps);
          runtime = new ChainRuntime(key, entry.name, filter, (r) => this.#onRuntimeClosed(r));
          entry.runtimes.set(key, runtime);
          created.push(runtime);
        }
        runtimes.set(chain, runtime);
      }
    } catch (err) {
      for (const r of created) {
        entry.runtimes.delete(r.key);
        r.destroy();
      }
      this.#failed(entry, `cannot build filter chains: ${(err as Error).message}`);
      return undefined;
    }
    for (const r of new Set(runtimes.values())) r.refs++;
    return new ListenerVersion(compiled, runtimes, entry.limit, this.#versionCtx);
  }

  #depsBase(): Omit<NetworkFilterDeps, 'listener'> {
    const { clusters, routes, stats, subscriptions } = this.#opts;
    return { clusters, routes, stats, subscriptions };
  }

  #start(entry: Entry, version: ListenerVersion): void {
    version.state = 'starting';
    const c = version.compiled;
    if (!c.bindToPort) {
      this.#promote(entry, version);
      return;
    }
    const socket = this.#sockets.claim(c.host, c.port, entry.name);
    if (typeof socket === 'string') {
      this.#failStart(entry, version, socket);
      return;
    }
    version.socket = socket;
    if (socket.bound) {
      this.#promote(entry, version);
      return;
    }
    this.#bind(entry, version, socket);
  }

  /** Binds in the background; the version becomes active once bound, unless a newer one replaced it meanwhile. */
  #bind(entry: Entry, version: ListenerVersion, socket: BoundSocket): void {
    const c = version.compiled;
    const bind: Promise<void> = socket.listen(c.backlog).then(
      () => {
        if (entry.next === version) this.#promote(entry, version);
      },
      (err: Error) => {
        this.#sockets.forget(socket);
        if (entry.next === version) this.#failStart(entry, version, `cannot listen on ${c.host}:${c.port}: ${err.message}`);
      },
    ).finally(() => {
      this.#binds.delete(bind);
      this.#settle();
    });
    this.#binds.add(bind);
  }

  #promote(entry: Entry, version: ListenerVersion): void {
    const c = version.compiled;
    const old = entry.active;
    entry.next = undefined;
    entry.active = version;
    entry.error = undefined;
    version.stats = listenerStats(this.#opts.stats, listenerStatName(c.statPrefix, c.host, version.socket?.boundPort ?? c.port));
    version.state = 'active';
    if (version.socket !== undefined) version.socket.target = version;
    if (!c.bindToPort) this.#virtual.set(`${c.host}:${c.port}`, entry);
    if (old !== undefined) {
      if ([...old.runtimes.values()].some((r) => r.refs > 1)) this.#stats.inPlaceUpdated.value++;
      this.#retire(entry, old);
    }
    this.#stats.createSuccess.value++;
    this.#log(`listener ${entry.name} active on ${c.host}:${version.socket?.boundPort ?? c.port}${c.bindToPort ? '' : ' (not bound)'}`);
  }

  #failStart(entry: Entry, version: ListenerVersion, error: string): void {
    entry.next = undefined;
    this.#discard(entry, version);
    this.#failed(entry, error);
  }

  #failed(entry: Entry, error: string): void {
    entry.error = error;
    this.#stats.createFailure.value++;
    this.#log(`listener ${entry.name}: ${error}`);
  }

  /** An active version leaves: no new connections; chains no other version uses drain. */
  #retire(entry: Entry, version: ListenerVersion): void {
    version.state = 'draining';
    if (entry.active === version) entry.active = undefined;
    this.#releaseSocket(version);
    const c = version.compiled;
    const vkey = `${c.host}:${c.port}`;
    const now = entry.active?.compiled;
    const kept = now !== undefined && !now.bindToPort && `${now.host}:${now.port}` === vkey;
    if (!c.bindToPort && !kept && this.#virtual.get(vkey) === entry) this.#virtual.delete(vkey);
    const drainTimeout = version.stats.drainTimeout;
    for (const runtime of new Set(version.runtimes.values())) {
      if (--runtime.refs > 0) continue;
      entry.runtimes.delete(runtime.key);
      this.#draining.add(runtime);
      runtime.drain(this.#drainMs, (n) => (drainTimeout.value += n));
    }
  }

  /** A version that never served goes away: its own runtimes close at once. */
  #discard(entry: Entry, version: ListenerVersion): void {
    version.state = 'discarded';
    if (entry.next === version) entry.next = undefined;
    this.#releaseSocket(version);
    for (const runtime of new Set(version.runtimes.values())) {
      if (--runtime.refs > 0) continue;
      entry.runtimes.delete(runtime.key);
      runtime.destroy();
    }
  }

  #takeDown(entry: Entry): void {
    if (entry.next !== undefined) this.#discard(entry, entry.next);
    if (entry.active !== undefined) this.#retire(entry, entry.active);
  }

  #releaseSocket(version: ListenerVersion): void {
    const socket = version.socket;
    if (socket === undefined) return;
    version.socket = undefined;
    socket.refs--;
    if (socket.target === version) socket.target = undefined;
  }

  #remove(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    this.#entries.delete(name);
    this.#stats.removed.value++;
    this.#takeDown(entry);
    this.#log(`listener ${name} removed`);
  }

  /** Closes sockets no version uses any more (after an apply, so a listener in the same update can claim one) and updates gauges. */
  #settle(): void {
    this.#sockets.sweep();
    let active = 0;
    let warming = 0;
    for (const e of this.#entries.values()) {
      if (e.active !== undefined) active++;
      if (e.next?.state === 'warming') warming++;
    }
    this.#stats.active.value = active;
    this.#stats.warming.value = warming;
    this.#stats.draining.value = new Set([...this.#draining].map((r) => r.listener)).size;
  }

  #onRuntimeClosed(runtime: ChainRuntime): void {
    if (!this.#draining.delete(runtime)) return;
    this.#stats.draining.value = new Set([...this.#draining].map((r) => r.listener)).size;
    if (this.#draining.size > 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  #whenDrained(): Promise<void> {
    if (this.#draining.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #handoff(address: string, port: number): ListenerVersion | undefined {
    const wildcard = address.includes(':') ? '::' : '0.0.0.0';
    return (this.#virtual.get(`${address}:${port}`) ?? this.#virtual.get(`${wildcard}:${port}`))?.active;
  }

  #isReady(compiled: CompiledListener): boolean {
    const ready = this.#opts.ready;
    if (ready === undefined) return true;
    try {
      return ready(compiled.proto);
    } catch (err) {
      this.#log(`listener ${compiled.name}: readiness check failed: ${(err as Error).message}`);
      return false;
    }
  }

  #queueRefresh(): void {
    if (this.#refreshQueued) return;
    this.#refreshQueued = true;
    queueMicrotask(() => {
      this.#refreshQueued = false;
      this.refreshWarming();
    });
  }

  #maxConnections(name: string): number {
    const max = this.#opts.maxConnections;
    const value = typeof max === 'function' ? max(name) : max;
    return value === undefined || value <= 0 ? Number.POSITIVE_INFINITY : value;
  }

}
