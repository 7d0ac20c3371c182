/**
 * The fake cluster manager every proxy test uses in place of the real one: clusters are lists of real
 * `host:port` endpoints (or ORIGINAL_DST: the request's destination), picked round robin skipping
 * unhealthy and excluded hosts; HTTP goes through weft's own pools (what the proxy runs on): HTTP/1.1,
 * or HTTP/2 with prior knowledge for `http2` clusters; TCP through `net.connect` with the cluster's connect timeout. Counts
 * what the real cluster counts outside its request accounting (`cluster.<name>.upstream_cx_total` and
 * `upstream_cx_connect_fail` per connection attempt, `upstream_rq_pending_overflow` per refusal), and every pick
 * context is kept for assertions. A cluster can hold its TCP connects behind a gate, so tests control
 * when an upstream connection completes, and refuse admission (circuit breaker open).
 * Also trivial route-store and subscription fakes for parts that do not use them.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { H1Pool, plainConnector } from '../../src/proxy/upstream/http1/pool.ts';
import { H2Pool } from '../../src/proxy/upstream/http2/pool.ts';
import type { ClusterHandle, ClusterManager, OutlierMonitor, PickContext, RouteStore, Subscriptions, UpstreamDispatcher, UpstreamHost } from '../../src/proxy/core/contracts.ts';
import type { Stats } from '../../src/proxy/core/stats.ts';

export interface FakeHost {
  readonly address: string;
  readonly port: number;
  /** Read at every pick, so a test may flip it. */
  healthy?: boolean;
  /** What the router reports to the host's outlier detection (the fake's pools report nothing). */
  readonly outlier?: OutlierMonitor;
}

export interface ClusterSpec {
  readonly name: string;
  readonly hosts?: readonly FakeHost[];
  /** Upstream HTTP/2 (prior knowledge) instead of HTTP/1.1. */
  readonly http2?: boolean;
  /** ORIGINAL_DST: the host is the request's original destination. */
  readonly originalDst?: boolean;
  /** The circuit breaker: false refuses the request (UO). */
  readonly admit?: () => boolean;
  readonly connectTimeoutMs?: number;
  /** TCP connects wait for this promise before dialling. */
  readonly gate?: Promise<void>;
  /** The load balancer does not pick by hash (ROUND_ROBIN…): routes' hash policies are not evaluated. Default: it does. */
  readonly noHash?: boolean;
}

export class FakeCluster implements ClusterHandle {
  readonly name: string;
  readonly http2: boolean;
  readonly connectTimeoutMs: number;
  readonly usesHash: boolean;
  readonly spec: ClusterSpec;
  readonly hosts: UpstreamHost[];
  /** Every pick context seen, for assertions (hash, original destination, excluded hosts). */
  readonly picks: (PickContext | undefined)[] = [];
  readonly #stats: Stats;
  readonly #pools = new Map<string, UpstreamDispatcher & { destroy(): Promise<void> }>();
  #next = 0;

  constructor(spec: ClusterSpec, stats: Stats) {
    this.spec = spec;
    this.name = spec.name;
    this.http2 = spec.http2 === true;
    this.usesHash = spec.noHash !== true;
    this.connectTimeoutMs = spec.connectTimeoutMs ?? 1000;
    this.#stats = stats;
    this.hosts = (spec.hosts ?? []).map((h) => ({
      address: h.address,
      port: h.port,
      weight: 1,
      locality: '',
      outlier: h.outlier,
      get healthy() {
        return h.healthy !== false;
      },
    }));
  }

  pick(ctx?: PickContext): UpstreamHost | undefined {
    this.picks.push(ctx);
    if (this.spec.originalDst === true) {
      const dst = ctx?.originalDestination;
      if (dst === undefined) return undefined;
      const colon = dst.lastIndexOf(':');
      return { address: dst.slice(0, colon), port: Number(dst.slice(colon + 1)), weight: 1, healthy: true, locality: '' };
    }
    const usable = this.hosts.filter((h) => h.healthy && ctx?.exclude?.has(h) !== true);
    if (usable.length === 0) return undefined;
    return usable[this.#next++ % usable.length];
  }

  dispatcher(host: UpstreamHost): UpstreamDispatcher {
    const key = `${host.address}:${host.port}`;
    let d = this.#pools.get(key);
    if (d === undefined) {
      // weft's own pools, as the cluster manager builds them (HTTP/2: prior knowledge, h2c), counting
      // connection attempts and failures as the real cluster's pools do.
      const dial = plainConnector(host.address, host.port);
      const connect: typeof dial = (callback) => {
        this.counter('upstream_cx_total').value++;
        dial((err, socket, reader) => {
          if (err !== null) this.counter('upstream_cx_connect_fail').value++;
          callback(err, socket, reader);
        });
      };
      d = this.http2
        ? new H2Pool({ authority: key, maxConcurrentStreams: 100, idleTimeoutMs: 0, connect })
        : new H1Pool({ authority: key, maxConnections: 16, idleTimeoutMs: 0, connect });
      this.#pools.set(key, d);
    }
    return d;
  }

  async connect(host: UpstreamHost): Promise<Socket> {
    this.counter('upstream_cx_total').value++;
    if (this.spec.gate !== undefined) await this.spec.gate;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host.address, port: host.port });
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        this.counter('upstream_cx_connect_fail').value++;
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error('connect timeout')), this.connectTimeoutMs);
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(socket);
      });
    });
  }

  admit(): boolean {
    const admitted = this.spec.admit?.() ?? true;
    if (!admitted) this.counter('upstream_rq_pending_overflow').value++;
    return admitted;
  }

  counter(name: string): { value: number } {
    return this.#stats.counter(`cluster.${this.name}.${name}`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.destroy().catch(() => {})));
  }
}

export class FakeClusters implements ClusterManager {
  readonly stats: Stats;
  readonly #clusters = new Map<string, FakeCluster>();

  constructor(stats: Stats) {
    this.stats = stats;
  }

  add(spec: ClusterSpec): FakeCluster {
    const c = new FakeCluster(spec, this.stats);
    this.#clusters.set(spec.name, c);
    return c;
  }

  cluster(name: string): FakeCluster | undefined {
    return this.#clusters.get(name);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clusters.values()].map((c) => c.close()));
  }
}

/** Records every subscription change (the RDS names an HCM asks for). */
export class RecordingSubscriptions implements Subscriptions {
  readonly calls: { typeUrl: string; names: string[] }[] = [];
  want(typeUrl: string, names: ReadonlySet<string>): void {
    this.calls.push({ typeUrl, names: [...names].sort() });
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
