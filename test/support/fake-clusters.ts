/**
 * A fake cluster manager for proxy tests: clusters are lists of real `host:port` endpoints, picked
 * round robin (skipping unhealthy and excluded hosts), connected with plain `net.connect`. Counts
 * `cluster.<name>.upstream_cx_total` and `upstream_cx_connect_fail` like a real one. A cluster can
 * hold its connects behind a gate so tests control when an upstream connection completes.
 * Also trivial route-store and subscription fakes for parts that do not use them.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { ClusterHandle, ClusterManager, PickContext, RouteStore, Subscriptions, UpstreamHost } from '../../src/proxy/core/contracts.ts';
import type { Stats } from '../../src/proxy/core/stats.ts';

export interface FakeClusterOptions {
  readonly connectTimeoutMs?: number;
  /** Connects wait for this promise before dialling. */
  readonly gate?: Promise<void>;
}

export class FakeCluster implements ClusterHandle {
  readonly name: string;
  readonly http2 = false;
  readonly connectTimeoutMs: number;
  readonly hosts: UpstreamHost[];
  /** Every pick context seen, for assertions (hash, original destination). */
  readonly picks: (PickContext | undefined)[] = [];
  readonly #stats: Stats;
  readonly #gate: Promise<void> | undefined;
  #next = 0;

  constructor(name: string, hosts: readonly { address: string; port: number; healthy?: boolean }[], stats: Stats, options: FakeClusterOptions = {}) {
    this.name = name;
    this.hosts = hosts.map((h) => ({ address: h.address, port: h.port, weight: 1, healthy: h.healthy ?? true, locality: '' }));
    this.#stats = stats;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1000;
    this.#gate = options.gate;
  }

  pick(ctx?: PickContext): UpstreamHost | undefined {
    this.picks.push(ctx);
    const usable = this.hosts.filter((h) => h.healthy && ctx?.exclude?.has(h) !== true);
    if (usable.length === 0) return undefined;
    return usable[this.#next++ % usable.length];
  }

  dispatcher(): never {
    throw new Error('FakeCluster has no HTTP dispatcher');
  }

  async connect(host: UpstreamHost): Promise<Socket> {
    this.counter('upstream_cx_total').value++;
    if (this.#gate !== undefined) await this.#gate;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host.address, port: host.port });
      const timer = setTimeout(() => {
        socket.destroy();
        this.counter('upstream_cx_connect_fail').value++;
        reject(new Error('connect timeout'));
      }, this.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        this.counter('upstream_cx_connect_fail').value++;
        reject(err);
      });
    });
  }

  admit(): boolean {
    return true;
  }

  counter(name: string): { value: number } {
    return this.#stats.counter(`cluster.${this.name}.${name}`);
  }
}

export class FakeClusters implements ClusterManager {
  readonly #clusters = new Map<string, FakeCluster>();
  readonly #stats: Stats;

  constructor(stats: Stats) {
    this.#stats = stats;
  }

  add(name: string, hosts: readonly { address: string; port: number; healthy?: boolean }[], options?: FakeClusterOptions): FakeCluster {
    const cluster = new FakeCluster(name, hosts, this.#stats, options);
    this.#clusters.set(name, cluster);
    return cluster;
  }

  cluster(name: string): ClusterHandle | undefined {
    return this.#clusters.get(name);
  }
}

export function fakeRoutes(): RouteStore & { changed(name: string): void } {
  const listeners = new Set<(name: string) => void>();
  return {
    get: () => undefined,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changed(name) {
      for (const l of listeners) l(name);
    },
  };
}

export const noSubscriptions: Subscriptions = { want: () => {} };
