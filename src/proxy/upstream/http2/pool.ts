/**
 * weft's HTTP/2 connection pool for one upstream host, behind undici's dispatcher API like the
 * HTTP/1.1 pool, on weft's own HTTP/2 codec as a client (`H2Session`, prior knowledge, h2c). One session carries every
 * request, up to `maxConcurrentStreams` (and the peer's SETTINGS_MAX_CONCURRENT_STREAMS) at once;
 * further requests wait in FIFO order. A session that received GOAWAY, served
 * `maxRequestsPerConnection` streams or reached `maxConnectionDurationMs` takes no new streams and
 * closes once its streams are done; the next request opens a new one. A session idle for
 * `idleTimeoutMs` closes.
 *
 * Why not undici's HTTP/2 client: its per-request layers (request object, abort signal with a
 * DOMException, async-resource binding, body pipelines) cost more CPU than the proxy's own work for a
 * gRPC call, and undici's modules several MB of every sidecar that has an HTTP/2 cluster.
 *
 * Connect failures: the requests waiting for that session fail with the connect error (Envoy purges
 * its pending requests the same way).
 */
import type { Socket } from 'node:net';
import { DEFAULT_SETTINGS, H2Session, type SessionCounters, type SessionSettings } from '../../codec/http2/session.ts';
import type { Dispatcher } from 'undici';
import { refusedController, WaitQueue } from '../wait-queue.ts';
import { InvalidRequestError } from '../http1/request-head.ts';
import { PoolClosedError, type Connector } from '../http1/pool.ts';
import type { SocketReader } from '../../core/socket-reader.ts';
import { H2Exchange, type StreamOwner } from './exchange.ts';
import { h2RequestHeaders } from './request-headers.ts';

export interface H2PoolOptions {
  /** Opens a connection (dial address, connect timeout, counters): see `H1PoolOptions.connect`. */
  readonly connect: Connector;
  /** `:authority` when the request has no Host field. */
  readonly authority: string;
  /** Streams at once on a session (the peer's limit applies too). */
  readonly maxConcurrentStreams: number;
  /** A session without streams closes after this long; 0: never. */
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection?: number | undefined;
  readonly maxConnectionDurationMs?: number | undefined;
  /** SETTINGS_INITIAL_WINDOW_SIZE weft announces (per stream). */
  readonly initialStreamWindowSize?: number | undefined;
  /** The session's receive window. */
  readonly initialConnectionWindowSize?: number | undefined;
  /** The HTTP/2 codec's counters for this host's sessions (the cluster's `http2.*`). */
  readonly counters?: SessionCounters | undefined;
}

class PooledSession implements StreamOwner {
  session!: H2Session;
  readonly #pool: H2Pool;
  started = 0;
  retired = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #ttlTimer: NodeJS.Timeout | undefined;

  constructor(pool: H2Pool, ttlMs: number | undefined) {
    this.#pool = pool;
    if (ttlMs !== undefined) {
      this.#ttlTimer = setTimeout(() => this.retire(), ttlMs);
      this.#ttlTimer.unref();
    }
  }

  /** Streams running now (a client's open streams are all its own requests: push is off). */
  get active(): number {
    return this.session.activeStreams;
  }

  /** Room for another stream now. */
  hasRoom(max: number): boolean {
    return !this.retired && this.session.canOpen && this.active < max;
  }

  run(ex: H2Exchange, maxRequests: number | undefined): boolean {
    if (!ex.start(this)) {
      this.retire();
      return false;
    }
    this.started++;
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
    if (maxRequests !== undefined && this.started >= maxRequests) this.retire();
    return true;
  }

  streamClosed(): void {
    this.#pool.released(this);
  }

  idleFor(ms: number): void {
    if (ms <= 0 || this.active > 0 || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.active === 0) this.retire();
    }, ms);
    this.#idleTimer.unref();
  }

  /** No new streams; closes once the running ones are done. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.clearTimers();
    this.session.goaway();
  }

  clearTimers(): void {
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#ttlTimer);
    this.#idleTimer = undefined;
    this.#ttlTimer = undefined;
  }
}

export class H2Pool {
  readonly #options: H2PoolOptions;
  readonly #sessions = new Set<PooledSession>();
  /** Requests waiting for room on a session. */
  readonly #queue = new WaitQueue<H2Exchange>();
  #connecting = false;
  #closing = false;
  #destroyed = false;
  #closeWaiters: (() => void)[] = [];

  constructor(options: H2PoolOptions) {
    this.#options = options;
  }

  get closed(): boolean {
    return this.#closing || this.#destroyed;
  }

  /** Session and request counts, named as undici's `pool.stats`. */
  get stats(): { connected: number; free: number; pending: number; running: number } {
    let free = 0;
    let running = 0;
    for (const s of this.#sessions) {
      if (s.active === 0) free++;
      running += s.active;
    }
    return { connected: this.#sessions.size, free, pending: this.#queue.size, running };
  }

  /** Starts a request; every outcome reaches `handler`, including one that cannot be sent (`InvalidRequestError`). */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let headers;
    try {
      headers = h2RequestHeaders(options, this.#options.authority);
    } catch (err) {
      const e = err instanceof InvalidRequestError ? err : new InvalidRequestError((err as Error).message);
      handler.onResponseError?.(refusedController(e), e);
      return true;
    }
    const ex = new H2Exchange(options, handler, headers);
    if (this.closed) {
      ex.fail(new PoolClosedError(`connection pool to ${this.#options.authority} is closed`));
      return true;
    }
    if (this.#queue.size === 0 && this.#runOnSession(ex)) return true;
    this.#queue.push(ex);
    this.#grow();
    return true;
  }

  #runOnSession(ex: H2Exchange): boolean {
    const max = this.#options.maxConcurrentStreams;
    for (const s of this.#sessions) {
      if (s.hasRoom(max) && s.run(ex, this.#options.maxRequestsPerConnection)) return true;
    }
    return false;
  }

  /** Opens a session when requests wait and no usable one is there or being opened. */
  #grow(): void {
    if (this.#destroyed || this.#connecting || this.#queue.size === 0) return;
    for (const s of this.#sessions) if (!s.retired && !s.session.closed) return;
    this.#open();
  }

  #open(): void {
    this.#connecting = true;
    this.#options.connect((err, socket, reader) => {
      this.#connecting = false;
      if (err !== null || socket === null) {
        this.#connectFailed(err ?? new Error('connect failed'));
        return;
      }
      if (this.#destroyed) {
        socket.destroy();
        this.#settleClose();
        return;
      }
      this.#start(socket, reader);
    });
  }

  #start(socket: Socket, reader: SocketReader | undefined): void {
    const o = this.#options;
    const s = new PooledSession(this, o.maxConnectionDurationMs);
    this.#sessions.add(s);
    s.session = new H2Session(socket, 'client', this.#settings(), {
      stream: () => {}, // a server opens no streams (push is off)
      settings: () => this.#drain(),
      goaway: () => {
        s.retire();
        this.#grow();
      },
      close: () => {
        s.retired = true;
        s.clearTimers();
        this.#sessions.delete(s);
        if (!socket.destroyed) socket.destroySoon();
        if (!this.#destroyed) {
          this.#drain();
          this.#grow();
        }
        this.#settleClose();
      },
    }, reader, o.counters);
    this.#drain();
    this.#grow();
  }

  #settings(): SessionSettings {
    const o = this.#options;
    return {
      ...DEFAULT_SETTINGS,
      ...(o.initialStreamWindowSize !== undefined ? { initialWindowSize: o.initialStreamWindowSize } : {}),
      ...(o.initialConnectionWindowSize !== undefined ? { connectionWindowSize: o.initialConnectionWindowSize } : {}),
    };
  }

  /** Moves waiting requests onto sessions with room. */
  #drain(): void {
    while (this.#queue.size > 0) {
      const ex = this.#queue.peek();
      if (ex === undefined) break;
      if (!this.#runOnSession(ex)) break;
      this.#queue.shift();
    }
    if (this.#queue.size > 0) this.#grow();
    if (this.#closing) for (const s of this.#sessions) if (s.active === 0) s.retire();
  }

  #connectFailed(err: Error): void {
    this.#queue.failAll(err);
    this.#settleClose();
  }

  /** A stream on `s` closed. */
  released(s: PooledSession): void {
    if (this.#queue.size > 0) this.#drain();
    if (s.active > 0) return;
    if (this.#closing || this.#destroyed) s.retire();
    else s.idleFor(this.#options.idleTimeoutMs);
  }

  #settleClose(): void {
    if (!this.closed || this.#queue.size > 0 || this.#sessions.size > 0 || this.#connecting) return;
    for (const w of this.#closeWaiters.splice(0)) w();
  }

  /** Refuses new requests, serves the waiting ones, closes every session once its streams are done. */
  close(): Promise<void> {
    this.#closing = true;
    for (const s of this.#sessions) if (s.active === 0 && this.#queue.size === 0) s.retire();
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#settleClose();
    return done;
  }

  /** Fails every request (waiting and running) with `err` and closes every session now. */
  destroy(err: Error = new PoolClosedError(`connection pool to ${this.#options.authority} was destroyed`)): Promise<void> {
    this.#destroyed = true;
    this.#queue.failAll(err);
    for (const s of [...this.#sessions]) {
      s.retired = true;
      s.clearTimers();
      s.session.destroy();
    }
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#settleClose();
    return done;
  }
}
