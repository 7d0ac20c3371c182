/**
 * Test support for the upstream side (first-class test code, used by tests only): resources shaped
 * exactly as the xDS client delivers them (encoded with the real protos, then decoded), fake hosts for
 * balancer tests, a seeded random source, loopback HTTP/1.1 and HTTP/2 upstreams that record their
 * connections, a listener whose accept queue is full (connect timeouts), and a manager harness.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { request, type Dispatcher } from 'undici';
import { decodeResource, encodeResource } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import type { Proto, Subscriptions, UpstreamDispatcher } from '../core/contracts.ts';
import { Stats } from '../core/stats.ts';
import { ClusterManagerImpl } from './cluster-manager.ts';
import type { DnsResolver } from './dns.ts';
import type { Availability } from './endpoints.ts';
import type { LbEnv } from './lb/types.ts';
import type { PickerHost } from './picker.ts';
import type { HostDispatcher } from './connection-pool.ts';

/** A resource as the xDS client hands it over: encoded with Envoy's protos and decoded back. */
export function decoded(typeUrl: string, obj: Record<string, unknown>): Proto {
  return decodeResource(typeUrl, encodeResource(typeUrl, obj));
}

export function clusterResource(obj: Record<string, unknown>): Proto {
  return decoded(TYPE.cluster, obj);
}

export function socketAddress(address: string, port: number): Record<string, unknown> {
  return { address: { socketAddress: { address, portValue: port } } };
}

/** A ClusterLoadAssignment with one locality holding `endpoints` (`[address, port, extra lbEndpoint fields]`). */
export function loadAssignment(clusterName: string, endpoints: readonly (readonly [string, number, Record<string, unknown>?])[]): Proto {
  return decoded(TYPE.endpoint, {
    clusterName,
    endpoints: [{ lbEndpoints: endpoints.map(([a, p, extra]) => ({ endpoint: socketAddress(a, p), ...(extra ?? {}) })) }],
  });
}

/** A fast, seeded PRNG (xorshift32): deterministic balancer tests. */
export function seededEnv(seed: number): LbEnv {
  let x = (seed >>> 0) || 0x9e3779b9;
  return {
    random() {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    },
  };
}

export class FakeHost implements PickerHost {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly availability: Availability;
  readonly healthy: boolean;
  readonly locality: string;
  readonly hostname: string;
  readonly addressString: string;
  activeRequests = 0;

  constructor(i: number, options: { weight?: number; availability?: Availability; locality?: string; hostname?: string } = {}) {
    this.address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    this.port = 8080;
    this.weight = options.weight ?? 1;
    this.availability = options.availability ?? 'healthy';
    this.healthy = this.availability === 'healthy';
    this.locality = options.locality ?? '';
    this.hostname = options.hostname ?? '';
    this.addressString = `${this.address}:${this.port}`;
  }
}

export function fakeHosts(n: number, options: (i: number) => ConstructorParameters<typeof FakeHost>[1] = () => ({})): FakeHost[] {
  return Array.from({ length: n }, (_, i) => new FakeHost(i + 1, options(i)));
}

export function counts<T>(items: Iterable<T>): Map<T, number> {
  const m = new Map<T, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return m;
}

export interface Upstream {
  readonly port: number;
  /** Connections accepted so far (HTTP/1.1 sockets, or HTTP/2 sessions). */
  readonly connections: number;
  /** Remote ports of the requests served, in order (tells which connection served each). */
  readonly remotePorts: number[];
  /** The server-side address each request arrived on (which upstream address the proxy dialed). */
  readonly localAddresses: string[];
  readonly httpVersions: string[];
  /** Resolves the next request whose path starts with `/hold`; the test then releases it with `release()`. */
  held(): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

function track(server: http.Server | http2.Http2Server, h2: boolean): Upstream {
  const state = { connections: 0, remotePorts: [] as number[], localAddresses: [] as string[], httpVersions: [] as string[] };
  const holds: (() => void)[] = [];
  const waiters: (() => void)[] = [];
  server.on(h2 ? 'session' : 'connection', () => state.connections++);
  server.on('request', (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    state.remotePorts.push(req.socket.remotePort ?? 0);
    state.localAddresses.push(req.socket.localAddress ?? '');
    state.httpVersions.push(req.httpVersion);
    const finish = (): void => void res.end(`ok ${req.url}`);
    if (req.url?.startsWith('/hold') === true) {
      holds.push(finish);
      waiters.shift()?.();
    } else {
      finish();
    }
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    get connections() { return state.connections; },
    remotePorts: state.remotePorts,
    localAddresses: state.localAddresses,
    httpVersions: state.httpVersions,
    held: () => (holds.length > 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    release: () => { for (const f of holds.splice(0)) f(); },
    close: () => new Promise<void>((resolve) => {
      for (const f of holds.splice(0)) f();
      if ('closeAllConnections' in server) server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export async function http1Upstream(host = '127.0.0.1'): Promise<Upstream> {
  const server = http.createServer({ keepAliveTimeout: 60_000 });
  await new Promise<void>((r) => server.listen(0, host, r));
  return track(server, false);
}

export async function http2Upstream(host = '127.0.0.1'): Promise<Upstream> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const u = track(server, true);
  return { ...u, get connections() { return u.connections; }, close: () => { for (const s of sessions) s.destroy(); return u.close(); } };
}

/** A port nothing listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A listener that never accepts, its accept queue already full: further connections get no answer
 * (SYNs dropped), so connecting times out. The listener lives in a worker whose event loop is blocked.
 */
export async function blackholePort(): Promise<{ port: number; close: () => Promise<void> }> {
  const worker = new Worker(`
    const net = require('node:net');
    const { parentPort } = require('node:worker_threads');
    const s = net.createServer();
    s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(s.address().port);
      setImmediate(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
    });`, { eval: true });
  const port = await new Promise<number>((r) => worker.once('message', r));
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.once('connect', () => r()));
    fillers.push(s);
  }
  return { port, close: async () => { for (const s of fillers) s.destroy(); await worker.terminate(); } };
}

/** Sends a GET through a dispatcher and returns status and body. */
export async function get(d: UpstreamDispatcher, path = '/'): Promise<{ status: number; body: string }> {
  // undici's `request` API over the host's dispatcher: it needs nothing but `dispatch`.
  const res = await request(`http://upstream${path}`, { dispatcher: d as unknown as Dispatcher, method: 'GET', headers: { host: 'upstream' } });
  return { status: res.statusCode, body: await res.body.text() };
}

/**
 * Resolves once every connection of a host's pool is idle again (a connection is free once both its
 * request and response are complete; a request sent before that would open a second connection).
 */
export async function idle(d: UpstreamDispatcher): Promise<void> {
  const pool = (d as HostDispatcher).pool;
  while (pool.stats.free < pool.stats.connected) await new Promise((r) => setImmediate(r));
}

/** Polls `condition` on timers until it holds (for state changed by background work with no event to await). */
export async function eventually(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export class RecordingSubscriptions implements Subscriptions {
  readonly calls: { typeUrl: string; names: string[] }[] = [];

  want(typeUrl: string, names: ReadonlySet<string>): void {
    this.calls.push({ typeUrl, names: [...names].sort() });
  }

  get last(): string[] | undefined {
    return this.calls.at(-1)?.names;
  }
}

export interface Harness {
  readonly manager: ClusterManagerImpl;
  readonly stats: Stats;
  readonly subscriptions: RecordingSubscriptions;
  /** Validates then applies clusters as the xDS client does; throws with the problems if any. */
  clusters(resources: readonly Proto[], complete?: boolean): void;
  endpoints(resources: readonly Proto[], removed?: readonly string[]): void;
  close(): Promise<void>;
}

export function harness(options: { env?: LbEnv; dns?: DnsResolver; now?: () => number } = {}): Harness {
  const stats = new Stats();
  const subscriptions = new RecordingSubscriptions();
  const manager = new ClusterManagerImpl({ stats, subscriptions, ...options });
  return {
    manager,
    stats,
    subscriptions,
    clusters(resources, complete = true) {
      const map = new Map<string, Proto>();
      for (const r of resources) {
        const name = String(r['name']);
        const problems = manager.cdsHandler.validate(name, r);
        if (problems.length > 0) throw new Error(`cluster ${name}: ${problems.join('; ')}`);
        map.set(name, r);
      }
      manager.cdsHandler.apply(map, [], complete);
    },
    endpoints(resources, removed = []) {
      const map = new Map<string, Proto>();
      for (const r of resources) {
        const name = String(r['clusterName']);
        const problems = manager.edsHandler.validate(name, r);
        if (problems.length > 0) throw new Error(`endpoints ${name}: ${problems.join('; ')}`);
        map.set(name, r);
      }
      manager.edsHandler.apply(map, removed, false);
    },
    close: () => manager.close(false),
  };
}

/** Everything one dispatched request reported. */
export interface Outcome {
  status?: number;
  headers?: IncomingHttpHeaders;
  body: string;
  trailers?: IncomingHttpHeaders;
  error?: Error;
  upgrade?: { status: number; socket: Duplex };
}

/** Hooks to act on the controller as the response arrives. */
export interface CallHooks {
  onData?: (c: Dispatcher.DispatchController, chunk: Buffer) => void;
  onStart?: (c: Dispatcher.DispatchController) => void;
}

/** Dispatches a request (GET / with `host: test` unless `options` say otherwise) with a handler recording everything; asserts a single outcome. */
export function dispatchCall(pool: { dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean }, options: Partial<Dispatcher.DispatchOptions>, hooks: CallHooks = {}): Promise<Outcome> & { controller: () => Dispatcher.DispatchController | undefined } {
  const out: Outcome = { body: '' };
  let controller: Dispatcher.DispatchController | undefined;
  let ends = 0;
  const done = new Promise<Outcome>((resolve) => {
    const end = (): void => {
      ends++;
      assert.equal(ends, 1, 'one outcome per request');
      resolve(out);
    };
    pool.dispatch({ path: '/', method: 'GET', headers: ['host', 'test'], ...options } as Dispatcher.DispatchOptions, {
      onRequestStart(c) {
        controller = c;
        hooks.onStart?.(c);
      },
      onResponseStart(c, status, headers) {
        controller = c;
        out.status = status;
        out.headers = headers;
      },
      onResponseData(c, chunk) {
        out.body += chunk.toString('latin1');
        hooks.onData?.(c, chunk);
      },
      onResponseEnd(_c, trailers) {
        out.trailers = trailers;
        end();
      },
      onResponseError(_c, error) {
        out.error = error;
        end();
      },
      onRequestUpgrade(_c, status, _headers, socket) {
        out.upgrade = { status, socket };
        end();
      },
    });
  });
  return Object.assign(done, { controller: () => controller });
}
