/**
 * Connections to one upstream host: per host weft's own pool of keep-alive HTTP/1.1 connections (at
 * most `max_connections`, `http1/pool.ts`) or of one prior-knowledge HTTP/2 session (h2c, up to
 * `max_concurrent_streams` streams, further requests queue, `http2/pool.ts`), created on first use and
 * kept across EDS updates; plain TCP connections for the TCP proxy and CONNECT. Every connection is
 * dialed here, to the host's current address (LOGICAL_DNS), with the connect timeout and the
 * connection counters; requests go through `HostDispatcher`, which keeps the request counters (active,
 * pending, totals) that circuit breakers and LEAST_REQUEST read, and tells the host's outlier monitor how
 * each request went (connection reached, response status, reset or connect failure; the router reports
 * its timeouts itself), as do TCP connections for the TCP proxy. Both pools take requests through
 * undici's dispatcher API (its types only: undici itself is not loaded). Timeouts on requests (headers,
 * body) are the router's: the pools set none.
 */
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { H1Pool, PoolClosedError, type Connector } from './http1/pool.ts';
import { SocketReader } from '../core/socket-reader.ts';
import { H2Pool } from './http2/pool.ts';
import type { ClusterStats } from './cluster-stats.ts';
import { http2Counters } from '../codec/http2/session.ts';
import { UpstreamError } from './errors.ts';
import type { HostState } from './host.ts';
import { addressString } from './host.ts';
import { InvalidRequestError } from './http1/request-head.ts';
import { grpcToHttpStatus } from './outlier-detection.ts';
import type { HttpOptions } from './protocol-options.ts';
import { isGrpcContentType } from '../codec/grpc-content-type.ts';

/** Everything about a cluster that shapes its pools; clusters with equal settings can share host pools. */
export interface PoolSettings {
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  readonly http: HttpOptions;
  readonly tcpKeepaliveMs: number | undefined;
  readonly sourceAddress: string | undefined;
}

export interface PoolContext {
  readonly cluster: string;
  readonly stats: ClusterStats;
  readonly settings: PoolSettings;
}

export function poolSettingsKey(s: PoolSettings): string {
  return JSON.stringify(s);
}

/**
 * Whether a failed request counts against the host for outlier detection: not when the caller gave
 * up on it (retry, timeout, client gone: the controller was aborted), when the request itself cannot
 * be written, or when the pool was closed because the host left (Envoy's router likewise ignores
 * local resets and overflows).
 */
function hostFailure(controller: Dispatcher.DispatchController, err: Error): boolean {
  return !controller.aborted && !(err instanceof InvalidRequestError) && !(err instanceof PoolClosedError);
}

/**
 * The status outlier detection sees: for a gRPC request, a `grpc-status` in the response headers counts
 * as its HTTP equivalent (Envoy's router maps it only for gRPC requests).
 */
function outlierStatus(statusCode: number, headers: IncomingHttpHeaders, request: Dispatcher.DispatchOptions['headers']): number {
  const grpc = headers['grpc-status'];
  if (grpc === undefined || !isGrpcContentType(requestContentType(request))) return statusCode;
  return grpcToHttpStatus(Number(Array.isArray(grpc) ? grpc[0] : grpc));
}

/** The request's `content-type`, from dispatch headers as a flat name/value list or a record. */
function requestContentType(headers: Dispatcher.DispatchOptions['headers']): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === 'content-type') return String(headers[i + 1]);
    return undefined;
  }
  const v = (headers as Record<string, unknown>)['content-type'];
  return v === undefined ? undefined : String(Array.isArray(v) ? v[0] : v);
}

/** Counts one request from dispatch to its end; forwards every callback to the router's handler. */
class TrackingHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #state: HostState;
  readonly #stats: ClusterStats;
  readonly #request: Dispatcher.DispatchOptions['headers'];
  #started = false;
  #done = false;
  #failed = false;

  constructor(inner: Dispatcher.DispatchHandler, state: HostState, stats: ClusterStats, request: Dispatcher.DispatchOptions['headers']) {
    this.#inner = inner;
    this.#state = state;
    this.#stats = stats;
    this.#request = request;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#state.rqPending--;
    this.#stats.g.upstream_rq_pending_active.value--;
  }

  #finish(error: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#start();
    const c = this.#state.counters;
    c.rqActive--;
    if (error || this.#failed) c.rqError++;
    else c.rqSuccess++;
    this.#stats.g.upstream_rq_active.value--;
    this.#stats.c.upstream_rq_completed.value++;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#start();
    this.#state.outlier?.putResult('connect-success');
    this.#inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#finish(false);
    this.#state.outlier?.putHttpStatus(statusCode);
    this.#inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode >= 500) this.#failed = true;
    const outlier = this.#state.outlier;
    if (outlier !== undefined) outlier.putHttpStatus(outlierStatus(statusCode, headers, this.#request));
    this.#inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#finish(false);
    this.#inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#finish(true);
    const outlier = this.#state.outlier;
    if (outlier !== undefined && hostFailure(controller, error)) outlier.putResult('connect-failed');
    this.#inner.onResponseError?.(controller, error);
  }

  onResponseStarted(): void {
    this.#inner.onResponseStarted?.();
  }

  onBodySent(chunk: Buffer): void {
    this.#inner.onBodySent?.(chunk);
  }

  onRequestSent(): void {
    this.#inner.onRequestSent?.();
  }
}

/** What the router dispatches to: weft's HTTP/1.1 or HTTP/2 pool. */
interface RequestPool {
  readonly closed: boolean;
  readonly stats: { readonly connected: number; readonly free: number };
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/** The dispatcher handed to the router for one host: the pool, with request accounting. */
export class HostDispatcher {
  readonly pool: RequestPool;
  readonly #state: HostState;
  readonly #stats: ClusterStats;

  constructor(pool: RequestPool, state: HostState, stats: ClusterStats) {
    this.pool = pool;
    this.#state = state;
    this.#stats = stats;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const c = this.#state.counters;
    c.rqActive++;
    c.rqTotal++;
    this.#state.rqPending++;
    const s = this.#stats;
    s.c.upstream_rq_total.value++;
    s.c.upstream_rq_pending_total.value++;
    s.g.upstream_rq_active.value++;
    s.g.upstream_rq_pending_active.value++;
    return this.pool.dispatch(options, new TrackingHandler(handler, this.#state, s, options.headers));
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

function connectError(ctx: PoolContext, state: HostState, err: Error): UpstreamError {
  const host = addressString(state.dialAddress, state.port);
  const timeout = (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT';
  state.counters.cxConnectFail++;
  ctx.stats.c.upstream_cx_connect_fail.value++;
  if (timeout) {
    ctx.stats.c.upstream_cx_connect_timeout.value++;
    return new UpstreamError('UPSTREAM_CONNECT_TIMEOUT', ctx.cluster, host, `upstream connect timeout after ${ctx.settings.connectTimeoutMs}ms to ${host} in ${ctx.cluster}`, { cause: err });
  }
  return new UpstreamError('UPSTREAM_CONNECT_FAILURE', ctx.cluster, host, `upstream connect error to ${host} in ${ctx.cluster}: ${err.message}`, { cause: err });
}

function countConnection(ctx: PoolContext, state: HostState, socket: Socket, http2: boolean): void {
  state.counters.cxTotal++;
  state.counters.cxActive++;
  const s = ctx.stats;
  s.c.upstream_cx_total.value++;
  (http2 ? s.c.upstream_cx_http2_total : s.c.upstream_cx_http1_total).value++;
  s.g.upstream_cx_active.value++;
  socket.once('close', () => {
    state.counters.cxActive--;
    s.g.upstream_cx_active.value--;
    s.c.upstream_cx_destroy.value++;
  });
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`connect timeout after ${ms}ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' });
}

/**
 * Dials the host's current address with the cluster's connect timeout (Envoy's millisecond
 * `connect_timeout`) and source address; counts the connection from the attempt. `keepAliveMs`: TCP
 * keepalive probes after that much idle time.
 */
function dial(ctx: PoolContext, state: HostState, keepAliveMs: number | undefined, callback: (err: UpstreamError | null, socket: Socket | null) => void, http2 = false, reader?: SocketReader): void {
  const socket = netConnect({
    host: state.dialAddress,
    port: state.port,
    noDelay: true,
    ...(reader !== undefined ? { onread: reader.onread } : {}),
    ...(keepAliveMs !== undefined ? { keepAlive: true, keepAliveInitialDelay: keepAliveMs } : {}),
    ...(ctx.settings.sourceAddress !== undefined ? { localAddress: ctx.settings.sourceAddress } : {}),
  });
  // Counted from the attempt, as Envoy counts a connection from its creation: a failed connect is in
  // upstream_cx_total (and upstream_cx_destroy once closed), and a connecting one is active.
  countConnection(ctx, state, socket, http2);
  const fail = (err: Error): void => {
    clearTimeout(timer);
    socket.destroy();
    callback(connectError(ctx, state, err), null);
  };
  const timer = setTimeout(() => fail(timeoutError(ctx.settings.connectTimeoutMs)), ctx.settings.connectTimeoutMs);
  socket.once('error', fail);
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.off('error', fail);
    callback(null, socket);
  });
}

function idleTimeoutMs(http: HttpOptions): number {
  return http.idleTimeoutMs > 0 ? http.idleTimeoutMs : 0;
}

/** A pool's connector: each connection is read through a `SocketReader` (net.connect's `onread`). */
function poolConnector(ctx: PoolContext, state: HostState, http2: boolean): Connector {
  return (cb) => {
    const reader = new SocketReader();
    dial(ctx, state, ctx.settings.tcpKeepaliveMs ?? 60_000, (err, socket) => cb(err, socket, reader), http2, reader);
  };
}

function createH1Pool(ctx: PoolContext, state: HostState): H1Pool {
  const { http, maxConnections } = ctx.settings;
  return new H1Pool({
    connect: poolConnector(ctx, state, false),
    authority: addressString(state.dialAddress, state.port),
    maxConnections,
    idleTimeoutMs: idleTimeoutMs(http),
    maxRequestsPerConnection: http.maxRequestsPerConnection,
    maxConnectionDurationMs: http.maxConnectionDurationMs,
  });
}

function createH2Pool(ctx: PoolContext, state: HostState): H2Pool {
  const { http } = ctx.settings;
  return new H2Pool({
    connect: poolConnector(ctx, state, true),
    authority: addressString(state.dialAddress, state.port),
    maxConcurrentStreams: http.maxConcurrentStreams,
    idleTimeoutMs: idleTimeoutMs(http),
    maxRequestsPerConnection: http.maxRequestsPerConnection,
    maxConnectionDurationMs: http.maxConnectionDurationMs,
    initialStreamWindowSize: http.initialStreamWindowSize,
    initialConnectionWindowSize: http.initialConnectionWindowSize,
    // The cluster's `cluster.<name>.http2.*`, made when it first has an HTTP/2 pool.
    counters: http2Counters((name) => ctx.stats.get(name)),
  });
}

/** The host's dispatcher for HTTP/2 or HTTP/1.1, created on first use. */
export function hostDispatcher(state: HostState, ctx: PoolContext, http2: boolean): HostDispatcher {
  const slot = http2 ? 1 : 0;
  const existing = state.pools[slot] as HostDispatcher | undefined;
  if (existing !== undefined) return existing;
  const pool = http2 ? createH2Pool(ctx, state) : createH1Pool(ctx, state);
  const d = new HostDispatcher(pool, state, ctx.stats);
  state.pools[slot] = d;
  return d;
}

/** Closes the host's pools gracefully: in-flight requests finish, idle connections close, new dispatches fail. */
export function closeHost(state: HostState): Promise<void> {
  state.closed = true;
  const closing = state.pools.filter((p): p is HostDispatcher => p !== undefined).map((p) => p.close().catch(() => undefined));
  return Promise.all(closing).then(() => undefined);
}

/** Closes the host's pools at once, failing in-flight requests (proxy shutdown). */
export function destroyHost(state: HostState): Promise<void> {
  state.closed = true;
  const destroying = state.pools.filter((p): p is HostDispatcher => p !== undefined).map((p) => p.destroy().catch(() => undefined));
  return Promise.all(destroying).then(() => undefined);
}

/**
 * A TCP connection to the host (TCP proxy, CONNECT), rejected with an `UpstreamError` on failure, after
 * the connect timeout, or when the cluster's `max_connections` are all in use. The caller owns the socket
 * (and its error handling) once it resolves.
 */
export function connectTcp(state: HostState, ctx: PoolContext): Promise<Socket> {
  const host = addressString(state.dialAddress, state.port);
  const full = ctx.stats.g.upstream_cx_active.value >= ctx.settings.maxConnections;
  ctx.stats.g['circuit_breakers.default.cx_open'].value = full ? 1 : 0;
  if (full) {
    ctx.stats.c.upstream_cx_overflow.value++;
    return Promise.reject(new UpstreamError('UPSTREAM_OVERFLOW', ctx.cluster, host, `max_connections (${ctx.settings.maxConnections}) reached in ${ctx.cluster}`));
  }
  return new Promise((resolve, reject) => dial(ctx, state, ctx.settings.tcpKeepaliveMs, (err, socket) => {
    // A connection is all the TCP proxy and CONNECT learn about the host (Envoy's LocalOriginConnectSuccessFinal).
    state.outlier?.putResult(err !== null ? 'connect-failed' : 'connect-success-final');
    if (err !== null) reject(err);
    else resolve(socket!);
  }));
}
