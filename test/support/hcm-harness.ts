/**
 * End-to-end harness for the HTTP connection manager: a real listener socket (a `net.Server` feeding
 * accepted sockets to the HCM network filter, as the listener manager does), the fake cluster manager
 * (fake-clusters.ts: real upstream servers reached through undici pools), and small clients (raw
 * sockets, node:http, node:http2). Everything on loopback with ports from listen(0).
 */
import { readFileSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import type { NetworkFilter, Proto } from '../../src/proxy/core/contracts.ts';
import { Stats } from '../../src/proxy/core/stats.ts';
import { builtinFilters, httpConnectionManagerFactory, RouteConfigStore, type StreamInfo } from '../../src/proxy/http/index.ts';
import { formatFlags } from '../../src/proxy/http/stream-info.ts';
import { FakeClusters, RecordingSubscriptions } from './fake-clusters.ts';
import { echo, h1Server } from './http-peers.ts';

export { FakeCluster, FakeClusters, RecordingSubscriptions } from './fake-clusters.ts';
export type { ClusterSpec, FakeHost } from './fake-clusters.ts';

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

/** A proxy (the HCM settings in `extra`, every path to cluster `up`) in front of one `echo('up')` upstream; `close` stops both. */
export async function echoProxy(extra: Record<string, unknown>): Promise<{ proxy: Proxy; close(): Promise<void> }> {
  const up = await h1Server(echo('up'));
  const proxy = await startProxy(hcm({ routeConfig: routeConfig([{ match: { prefix: '/' }, route: { cluster: 'up' } }]), ...extra }), (c) => c.add({ name: 'up', hosts: [{ address: '127.0.0.1', port: up.port }] }));
  return {
    proxy,
    async close() {
      await proxy.close();
      await up.close();
    },
  };
}

/** Renders an access log entry for assertions: `503 UH no healthy upstream in c`. */
export function logLine(info: StreamInfo): string {
  return `${info.responseCode} ${formatFlags(info.flags)} ${info.cause}`.trim();
}

export * from './http-peers.ts';
