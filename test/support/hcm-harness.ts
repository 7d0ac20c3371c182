/**
 * End-to-end harness for the HTTP connection manager: a real listener socket (a `net.Server` feeding
 * accepted sockets to the HCM network filter, as the listener manager does), a fake ClusterManager whose
 * clusters are real upstream servers reached through undici pools, and small clients (raw sockets,
 * node:http, node:http2). Everything on loopback with ports from listen(0).
 */
import { readFileSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { H2CClient, Pool, type Dispatcher } from 'undici';
import type { ClusterHandle, ClusterManager, NetworkFilter, PickContext, Proto, Subscriptions, UpstreamHost } from '../../src/proxy/core/contracts.ts';
import { Stats } from '../../src/proxy/core/stats.ts';
import { builtinFilters, httpConnectionManagerFactory, RouteConfigStore, type StreamInfo } from '../../src/proxy/http/index.ts';
import { formatFlags } from '../../src/proxy/http/stream-info.ts';

export interface FakeHost {
  readonly address: string;
  readonly port: number;
  healthy?: boolean;
}

export interface ClusterSpec {
  readonly name: string;
  readonly hosts?: readonly FakeHost[];
  readonly http2?: boolean;
  /** ORIGINAL_DST: the host is the request's destination. */
  readonly originalDst?: boolean;
  admit?: () => boolean;
}

class FakeCluster implements ClusterHandle {
  readonly name: string;
  readonly http2: boolean;
  readonly connectTimeoutMs = 1000;
  readonly spec: ClusterSpec;
  readonly #stats: Stats;
  readonly #pools = new Map<string, Dispatcher>();
  readonly hosts: UpstreamHost[];
  #rr = 0;
  picks: PickContext[] = [];

  constructor(spec: ClusterSpec, stats: Stats) {
    this.spec = spec;
    this.name = spec.name;
    this.http2 = spec.http2 === true;
    this.#stats = stats;
    this.hosts = (spec.hosts ?? []).map((h) => ({
      address: h.address,
      port: h.port,
      weight: 1,
      locality: '',
      get healthy() {
        return h.healthy !== false;
      },
    }));
  }

  pick(ctx?: PickContext): UpstreamHost | undefined {
    this.picks.push(ctx ?? {});
    if (this.spec.originalDst === true) {
      const dst = ctx?.originalDestination;
      if (dst === undefined) return undefined;
      const colon = dst.lastIndexOf(':');
      return { address: dst.slice(0, colon), port: Number(dst.slice(colon + 1)), weight: 1, healthy: true, locality: '' };
    }
    const candidates = this.hosts.filter((h) => h.healthy && ctx?.exclude?.has(h) !== true);
    if (candidates.length === 0) return undefined;
    return candidates[this.#rr++ % candidates.length];
  }

  dispatcher(host: UpstreamHost): Dispatcher {
    const key = `${host.address}:${host.port}`;
    let d = this.#pools.get(key);
    if (d === undefined) {
      const origin = `http://${host.address}:${host.port}`;
      d = this.http2 ? new H2CClient(origin) : new Pool(origin, { connections: 16 });
      this.#pools.set(key, d);
    }
    return d;
  }

  connect(host: UpstreamHost): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect(host.port, host.address);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  admit(): boolean {
    return this.spec.admit?.() ?? true;
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

export class RecordingSubscriptions implements Subscriptions {
  readonly calls: { typeUrl: string; names: string[] }[] = [];
  want(typeUrl: string, names: ReadonlySet<string>): void {
    this.calls.push({ typeUrl, names: [...names].sort() });
  }
}

export interface Proxy {
  readonly port: number;
  readonly url: string;
  readonly stats: Stats;
  readonly clusters: FakeClusters;
  readonly routes: RouteConfigStore;
  readonly subscriptions: RecordingSubscriptions;
  readonly filter: NetworkFilter;
  /** Finished streams as the access log saw them: `status flags cause`. */
  readonly log: StreamInfo[];
  counter(name: string): number;
  close(): Promise<void>;
}

/** A typed HttpConnectionManager config (Any form) with Envoy-like defaults for tests. */
export function hcm(extra: Record<string, unknown>): Proto {
  return {
    statPrefix: 'test',
    codecType: 'AUTO',
    httpFilters: [
      { name: 'envoy.filters.http.cors', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors' } },
      { name: 'envoy.filters.http.fault', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } },
      { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
    ],
    upgradeConfigs: [{ upgradeType: 'websocket' }, { upgradeType: 'CONNECT' }],
    ...extra,
  };
}

/** One virtual host for every domain with `routes`. */
export function routeConfig(routes: readonly Record<string, unknown>[], vh: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'test', virtualHosts: [{ name: 'all', domains: ['*'], routes, ...vh }] };
}

/** The test certificate (test/fixtures/tls) for TLS listeners and their clients. */
export const TEST_TLS = {
  key: readFileSync(new URL('../fixtures/tls/localhost.key', import.meta.url)),
  cert: readFileSync(new URL('../fixtures/tls/localhost.crt', import.meta.url)),
};

export interface ProxyOptions {
  /** Terminate TLS (test certificate, ALPN h2 and http/1.1) before the HCM, as a TLS transport socket does. */
  readonly tls?: boolean;
  /** Read the first chunk before handing the socket over, as a listener filter (HTTP inspector) does. */
  readonly preread?: boolean;
}

export async function startProxy(config: Proto, setup: (c: FakeClusters) => void = () => {}, options: ProxyOptions = {}): Promise<Proxy> {
  const stats = new Stats();
  const clusters = new FakeClusters(stats);
  setup(clusters);
  const registry = builtinFilters();
  const routes = new RouteConfigStore(registry);
  const subscriptions = new RecordingSubscriptions();
  const log: StreamInfo[] = [];
  const factory = httpConnectionManagerFactory({ filters: registry, accessLog: (info) => log.push(info) });
  const problems = factory.validate(config);
  if (problems.length > 0) throw new Error(`HCM config problems: ${problems.join('; ')}`);
  const filter = factory.create(config, { clusters, routes, stats, subscriptions, listener: { name: 'test', direction: 'OUTBOUND' } });
  const accept = (socket: Socket, transport: 'raw_buffer' | 'tls'): void => {
    if (options.preread === true) {
      socket.once('data', (preread: Buffer) => {
        socket.pause();
        filter.onConnection({ socket, localAddress: socket.localAddress ?? '', localPort: socket.localPort ?? 0, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0, transport, preread });
      });
      return;
    }
    filter.onConnection({
      socket,
      localAddress: socket.localAddress ?? '127.0.0.1',
      localPort: socket.localPort ?? 0,
      remoteAddress: socket.remoteAddress ?? '127.0.0.1',
      remotePort: socket.remotePort ?? 0,
      transport,
    });
  };
  // The listener terminates TLS (ALPN h2 / http/1.1) and hands the decrypted socket over, as the listener manager does.
  const server = options.tls === true
    ? tls.createServer({ ...TEST_TLS, ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => accept(socket, 'tls'))
    : net.createServer((socket) => accept(socket, 'raw_buffer'));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${options.tls === true ? 'https' : 'http'}://127.0.0.1:${port}`,
    stats,
    clusters,
    routes,
    subscriptions,
    filter,
    log,
    counter: (name) => stats.entries().find((e) => e.name === name)?.value ?? 0,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await clusters.close();
    },
  };
}

/** Renders an access log entry for assertions: `503 UH no healthy upstream in c`. */
export function logLine(info: StreamInfo): string {
  return `${info.responseCode} ${formatFlags(info.flags)} ${info.cause}`.trim();
}

export * from './http-peers.ts';
