/**
 * weft's HTTP/1.1 connection pool for one upstream host, behind undici's dispatcher API
 * (`dispatch(options, handler)` with the controller-style handler), so the router cannot tell it from
 * undici's Pool. Up to `maxConnections` keep-alive connections, one exchange each; requests beyond
 * that wait in FIFO order for the first connection that frees up. Idle connections are reused most
 * recently used first, so the spare ones reach their idle timeout and close.
 *
 * Why not undici's Pool: on the proxy's hot path its per-request layers (request object, handler
 * wrappers, WASM parser hand-offs, header re-parsing) cost about as much CPU as the rest of the proxy,
 * and ~15 MB of memory per sidecar; the dispatcher API stays, HTTP/2 upstreams still use undici.
 *
 * Connect failures: when the last connection being opened fails, every waiting request fails with
 * that error (Envoy purges its pending requests the same way); while others are still connecting,
 * only the requests those cannot serve fail.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { SocketReader } from '../../core/socket-reader.ts';
import { refusedController, WaitQueue } from '../wait-queue.ts';
import { H1Connection, type ConnectionOwner } from './connection.ts';
import { Exchange } from './exchange.ts';
import { requestHead, type RequestHead } from './request-head.ts';

export interface H1PoolOptions {
  /**
   * Opens a connection (dial address, connect timeout, counters): calls back once with a socket or the
   * error, and the reader its bytes come through when it was opened with one (`SocketReader`).
   */
  readonly connect: Connector;
  /** `host` header when the request has none. */
  readonly authority: string;
  readonly maxConnections: number;
  /** Idle connections close after this long; 0: never. */
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection?: number | undefined;
  readonly maxConnectionDurationMs?: number | undefined;
}

/** Opens an upstream connection: calls back once with a socket (and its reader, if any) or the error. */
export type Connector = (callback: (err: Error | null, socket: Socket | null, reader?: SocketReader) => void) => void;

/**
 * A connector to a fixed address with none of a cluster's settings (no timeout, counters or source
 * address): for tests, benchmarks and tools. The proxy dials through `connection-pool.ts`.
 */
export function plainConnector(host: string, port: number): Connector {
  return (callback) => {
    const reader = new SocketReader();
    const socket = netConnect({ host, port, noDelay: true, onread: reader.onread });
    const fail = (err: Error): void => callback(err, null);
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.off('error', fail);
      callback(null, socket, reader);
    });
  };
}

/** A request refused because the pool is closing or destroyed. */
export class PoolClosedError extends Error {
  readonly code = 'WEFT_POOL_CLOSED';
}

export class H1Pool implements ConnectionOwner {
  readonly #options: H1PoolOptions;
  readonly #connections = new Set<H1Connection>();
  /** Idle connections, most recently used last. */
  readonly #idle: H1Connection[] = [];
  /** Requests waiting for a connection. */
  readonly #queue = new WaitQueue<Exchange>();
  #connecting = 0;
  #closing = false;
  #destroyed = false;
  #closeWaiters: (() => void)[] = [];

  constructor(options: H1PoolOptions) {
    this.#options = options;
  }

  /** Whether `close()` or `destroy()` was called (undici's Pool has the same flag). */
  get closed(): boolean {
    return this.#closing || this.#destroyed;
  }

  /** Connection and request counts, named as undici's `pool.stats`. */
  get stats(): { connected: number; free: number; pending: number; running: number } {
    const connected = this.#connections.size;
    const free = this.#idle.length;
    return { connected, free, pending: this.#queue.size, running: connected - free };
  }

  /**
   * Starts a request; every outcome reaches `handler`, including a request that cannot be written
   * (`InvalidRequestError`, before anything is sent), so callers' accounting always ends.
   */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let head: RequestHead;
    try {
      head = requestHead(options, this.#options.authority);
    } catch (err) {
      handler.onResponseError?.(refusedController(err as Error), err as Error);
      return true;
    }
    const ex = new Exchange(options, handler, head);
    if (this.closed) {
      ex.fail(new PoolClosedError(`connection pool to ${this.#options.authority} is closed`));
      return true;
    }
    const idle = this.#idle.pop();
    if (idle !== undefined && !idle.closed) {
      idle.run(ex);
      return true;
    }
    this.#queue.push(ex);
    this.#grow();
    return true;
  }

  /** Opens a connection when requests wait that the connections being opened will not serve. */
  #grow(): void {
    if (this.#queue.size > this.#connecting && this.#connections.size + this.#connecting < this.#options.maxConnections) this.#open();
  }

  #open(): void {
    this.#connecting++;
    this.#options.connect((err, socket, reader) => {
      this.#connecting--;
      if (err !== null || socket === null) {
        this.#connectFailed(err ?? new Error('connect failed'));
        return;
      }
      if (this.#destroyed) {
        socket.destroy();
        this.#settleClose();
        return;
      }
      const c = new H1Connection(socket, this, this.#options.idleTimeoutMs, undefined, reader);
      this.#connections.add(c);
      const ttl = this.#options.maxConnectionDurationMs;
      if (ttl !== undefined) setTimeout(() => c.retire(), ttl).unref();
      this.released(c);
    });
  }

  #connectFailed(err: Error): void {
    // Requests the remaining connection attempts would serve keep waiting.
    while (this.#queue.size > this.#connecting) {
      const ex = this.#queue.shift();
      if (ex === undefined) break;
      ex.fail(err);
    }
    this.#settleClose();
  }

  released(c: H1Connection): void {
    const max = this.#options.maxRequestsPerConnection;
    if (this.#destroyed || (max !== undefined && c.exchanges >= max)) {
      c.retire();
      this.#grow();
      return;
    }
    const next = this.#queue.shift();
    if (next !== undefined) {
      c.run(next);
      return;
    }
    if (this.#closing) {
      c.retire();
      return;
    }
    this.#idle.push(c);
  }

  closing(c: H1Connection): void {
    const i = this.#idle.lastIndexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  gone(c: H1Connection): void {
    if (!this.#connections.delete(c)) return;
    this.closing(c);
    if (!this.#destroyed) this.#grow();
    this.#settleClose();
  }

  #settleClose(): void {
    if (!this.closed || this.#queue.size > 0 || this.#connections.size > 0 || this.#connecting > 0) return;
    for (const w of this.#closeWaiters.splice(0)) w();
  }

  /** Refuses new requests, serves the waiting ones, closes every connection as it becomes idle. */
  close(): Promise<void> {
    this.#closing = true;
    for (const c of this.#idle.splice(0)) c.retire();
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#settleClose();
    return done;
  }

  /** Fails every request (waiting and running) with `err` and closes every connection now. */
  destroy(err: Error = new PoolClosedError(`connection pool to ${this.#options.authority} was destroyed`)): Promise<void> {
    this.#destroyed = true;
    this.#queue.failAll(err);
    this.#idle.length = 0;
    for (const c of [...this.#connections]) c.destroy(err);
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#settleClose();
    return done;
  }
}
