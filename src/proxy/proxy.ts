/**
 * The proxy, wired: one `Stats`, one xDS client (ADS) feeding the listener manager (LDS), the cluster
 * manager (CDS, EDS) and the route store (RDS); the network filter registry with the TCP proxy and the
 * HTTP connection manager (over the built-in HTTP filters); the admin, health and Prometheus endpoints.
 * Local mode: listeners bind where the control plane puts them (the proxy's own loopback address), the
 * admin endpoints on that address too.
 *
 * Readiness (`/healthz/ready`, `/ready`): the xDS client's warming (first complete Listener and Cluster
 * sets, every wanted route and endpoint set arrived or timed out) plus the proxy's own part: no listener
 * still binding or warming. Draining or stopping turns it off again.
 *
 * Shutdown: `drain()` stops every listener accepting and lets open connections finish (up to the drain
 * time); `stop()` drains, then closes the xDS stream, listeners, upstream pools and admin servers.
 */
import type { Proto, ResourceHandler } from './core/contracts.ts';
import { Stats } from './core/stats.ts';
import type { Bootstrap } from './bootstrap.ts';
import { AdminServer, Logger, type AdminContext, type LogLevel } from './admin/index.ts';
import { builtinFilters, httpConnectionManagerFactory, RouteConfigStore } from './http/index.ts';
import { ListenerManager } from './listener/index.ts';
import { listenerDependencies } from './listener/dependencies.ts';
import { NetworkFilterRegistry, registerBuiltins as registerNetworkBuiltins } from './network/index.ts';
import { ClusterManagerImpl } from './upstream/index.ts';
import { XdsClient, type AdsProtocol } from './xds/index.ts';
import { TYPE } from '../xds/type-urls.ts';

export interface ProxyPorts {
  /** Admin endpoint (default 15000; 0: any free port). */
  readonly admin?: number;
  /** Health endpoint, `/healthz/ready` (default 15021). */
  readonly health?: number;
  /** Prometheus endpoint, `/stats/prometheus` (default 15090). */
  readonly prometheus?: number;
}

export interface ProxyOptions {
  readonly bootstrap: Bootstrap;
  /** Where the admin endpoints listen (default: the bootstrap's address). */
  readonly adminAddress?: string;
  readonly ports?: ProxyPorts;
  /** How long draining connections get (default 5,000 ms). */
  readonly drainTimeoutMs?: number;
  readonly protocol?: AdsProtocol;
  readonly logLevel?: LogLevel;
  /** Where log lines go (default stderr). */
  readonly logSink?: (line: string) => void;
}

const DEFAULT_PORTS = { admin: 15000, health: 15021, prometheus: 15090 } as const;

/** The LDS handler: the listener manager, telling the xDS client to re-check readiness once binds settle. */
function ldsHandler(listeners: ListenerManager, settled: () => void): ResourceHandler {
  return {
    typeUrl: listeners.typeUrl,
    validate: (name: string, resource: Proto) => listeners.validate(name, resource),
    apply(resources, removed, complete) {
      listeners.apply(resources, removed, complete);
      void listeners.settled().then(settled);
    },
  };
}

export class Proxy {
  readonly bootstrap: Bootstrap;
  readonly stats = new Stats();
  readonly logger: Logger;
  readonly xds: XdsClient;
  readonly clusters: ClusterManagerImpl;
  readonly routes: RouteConfigStore;
  readonly listeners: ListenerManager;
  readonly #servers: AdminServer[] = [];
  readonly #startedAt = Date.now();
  #draining = false;
  #stopping: Promise<void> | undefined;
  #resolveStopped!: () => void;
  /** Resolves once the proxy has stopped (by `stop()` or `/quitquitquit`). */
  readonly stopped: Promise<void>;

  private constructor(options: ProxyOptions) {
    const b = options.bootstrap;
    this.bootstrap = b;
    this.logger = new Logger(options.logLevel ?? 'info', options.logSink);
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.xds = new XdsClient({
      server: b.control,
      node: b.node,
      initialFetchTimeoutMs: b.initialFetchTimeoutMs,
      stats: this.stats,
      log: this.logger.get('config').at('info'),
      warmed: () => this.#listenersWarm(),
      ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
    });
    this.clusters = new ClusterManagerImpl({ stats: this.stats, subscriptions: this.xds });
    const httpFilters = builtinFilters();
    this.routes = new RouteConfigStore(httpFilters, this.xds);
    const networkFilters = new NetworkFilterRegistry();
    registerNetworkBuiltins(networkFilters);
    networkFilters.register(httpConnectionManagerFactory({ filters: httpFilters }));
    this.listeners = new ListenerManager({
      networkFilters,
      clusters: this.clusters,
      routes: this.routes,
      stats: this.stats,
      subscriptions: this.xds,
      log: this.logger.get('config').at('info'),
      connectionLog: this.logger.get('conn_handler').at('info'),
      ready: (listener) => this.#dependenciesPresent(listener),
      ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
    });
    // A listener that finishes warming binds later than its LDS update: readiness is judged again once it has.
    const rewarm = (): void => {
      this.listeners.refreshWarming();
      void this.listeners.settled().then(() => this.xds.checkReady());
    };
    this.clusters.onChange(rewarm);
    this.routes.onChange(rewarm);
    this.xds
      .register(ldsHandler(this.listeners, () => this.xds.checkReady()))
      .register(this.clusters.cdsHandler)
      .register(this.clusters.edsHandler)
      .register(this.routes)
      .register(this.routes.virtualHosts);
  }

  /** Builds the proxy, binds its admin endpoints, and opens the ADS stream. Resolves before it is ready (see `whenReady`). */
  static async start(options: ProxyOptions): Promise<Proxy> {
    const proxy = new Proxy(options);
    try {
      await proxy.#listenAdmin(options);
    } catch (e) {
      await Promise.all(proxy.#servers.map((s) => s.close()));
      throw e;
    }
    proxy.xds.start();
    return proxy;
  }

  async #listenAdmin(options: ProxyOptions): Promise<void> {
    const host = options.adminAddress ?? this.bootstrap.ip;
    const ports = { ...DEFAULT_PORTS, ...options.ports };
    const ctx: AdminContext = {
      node: this.bootstrap.node,
      stats: this.stats,
      xds: this.xds,
      clusters: this.clusters,
      listeners: this.listeners,
      logger: this.logger,
      startedAt: this.#startedAt,
      ready: () => this.ready,
      quit: () => void this.stop(),
    };
    this.#servers.push(await AdminServer.listen('admin', ctx, host, ports.admin));
    this.#servers.push(await AdminServer.listen('health', ctx, host, ports.health));
    this.#servers.push(await AdminServer.listen('prometheus', ctx, host, ports.prometheus));
  }

  /**
   * Listener warming: its RDS route configurations have arrived (or were declared absent, or timed out),
   * and the clusters its TCP proxies use are not waiting for their endpoints.
   */
  #dependenciesPresent(listener: Proto): boolean {
    const deps = listenerDependencies(listener);
    if (!deps.routes.every((n) => this.routes.get(n) !== undefined || this.xds.settled(TYPE.route, n))) return false;
    if (deps.clusters.length === 0) return true;
    const warming = new Set(this.clusters.warming());
    return deps.clusters.every((n) => !warming.has(n));
  }

  #listenersWarm(): boolean {
    return this.listeners.listeners().every((l) => l.state !== 'starting' && l.state !== 'warming' && !l.warming);
  }

  /** Warm, every listener bound, and not draining. */
  get ready(): boolean {
    return !this.#draining && this.xds.readiness().ready;
  }

  /** Resolves once the proxy is ready for traffic. */
  whenReady(): Promise<void> {
    return this.xds.ready;
  }

  /** URLs of the admin, health and Prometheus endpoints as bound. */
  get urls(): { readonly admin: string; readonly health: string; readonly prometheus: string } {
    const url = (role: string) => this.#servers.find((s) => s.role === role)?.url ?? '';
    return { admin: url('admin'), health: url('health'), prometheus: url('prometheus') };
  }

  /** Stops accepting on every listener and waits for open connections to finish (or the drain time to end). */
  drain(): Promise<void> {
    this.#draining = true;
    return this.listeners.drainListeners();
  }

  /** Drains (unless `graceful` is false), then closes everything. Safe to call more than once. */
  stop(graceful = true): Promise<void> {
    this.#stopping ??= this.#stop(graceful);
    return this.#stopping;
  }

  async #stop(graceful: boolean): Promise<void> {
    this.logger.get('main').log('info', `proxy ${this.bootstrap.node.id}: ${graceful ? 'draining' : 'stopping'}`);
    if (graceful) await this.drain();
    this.#draining = true;
    this.xds.close();
    await this.listeners.close();
    await this.clusters.close(false);
    await Promise.all(this.#servers.map((s) => s.close()));
    this.#resolveStopped();
  }
}
