/**
 * The HTTP/2 server under the ADS service: it accepts connections (with a listen backlog a reconnecting
 * fleet does not overflow), routes gRPC calls by path, answers what is not a gRPC call to a known method
 * as the gRPC spec says, and keeps connections honest with HTTP/2 PINGs (a peer that stops answering is
 * dropped, so its proxy leaves the registry; istiod's defaults: every 30 s, 10 s to answer).
 */

import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { encodeGrpcMessage, GrpcStatus } from '../../xds/grpc-status.ts';
import { ADS_SERVICE } from '../../xds/ads-service.ts';

/**
 * The listen backlog asked for (the kernel caps it at `net.core.somaxconn`, 4096 on current kernels), as
 * Go servers such as istiod get by default. Node's own default, 511, overflows when a fleet reconnects at
 * once (2,000 proxies after a control-plane restart): with SYN cookies on, handshakes completed while the
 * accept queue was full end in resets (measured: ~500 of 2,000 simulated sidecars reset at 511, none at 4096).
 */
const LISTEN_BACKLOG = 65_535;

/** Per connection and per stream, what a client may send before waiting for us to read (requests can list thousands of names). */
const RECEIVE_WINDOW = 2 ** 20;

/** How often due keepalive pings are sent (ms): often enough that each tick pings a small share of the connections. */
const PING_TICK_MS = 1000;

export type CallOpener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

export interface GrpcServerOptions {
  /** Ping each connection this often (ms; 0: never). */
  readonly keepaliveMs?: number;
  /** …and drop it when a ping has gone unanswered this long (ms). */
  readonly keepaliveTimeoutMs?: number;
}

export class GrpcServer {
  readonly #methods: ReadonlyMap<string, CallOpener>;
  readonly #server: http2.Http2Server;
  /** Per open connection: when its last ping was answered (or it opened), and when the unanswered one went out. */
  readonly #sessions = new Map<http2.ServerHttp2Session, { answeredAt: number; sentAt: number | undefined }>();
  /**
   * Every accepted TCP connection, to end those still open when a close's grace period is over:
   * destroying the HTTP/2 session is not always enough (a session closed gracefully and then destroyed
   * while a keepalive ping was outstanding kept its socket, and the server's close never completed).
   */
  readonly #sockets = new Set<Socket>();
  readonly #keepaliveMs: number;
  readonly #keepaliveTimeoutMs: number;
  #keepalive: NodeJS.Timeout | undefined;

  constructor(methods: ReadonlyMap<string, CallOpener>, options: GrpcServerOptions = {}) {
    this.#methods = methods;
    this.#keepaliveMs = options.keepaliveMs ?? 30_000;
    this.#keepaliveTimeoutMs = options.keepaliveTimeoutMs ?? 10_000;
    // ADS sends headers once per stream: HPACK tables would only cost each of thousands of sessions memory.
    this.#server = http2.createServer({ settings: { initialWindowSize: RECEIVE_WINDOW, headerTableSize: 0 }, maxDeflateDynamicTableSize: 0 });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('session', (session) => this.#onSession(session));
    this.#server.on('stream', (stream, headers) => this.#onStream(stream, headers));
  }

  /** Binds `host:port` (0: a free port); resolves with the port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        this.#server.off('error', reject);
        this.#server.on('error', () => {}); // after binding, errors belong to sessions
        if (this.#keepaliveMs > 0) {
          this.#keepalive = setInterval(() => this.#ping(), Math.min(PING_TICK_MS, this.#keepaliveMs, this.#keepaliveTimeoutMs));
          this.#keepalive.unref();
        }
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting; connections get GOAWAY, and those still open after `graceMs` are destroyed. */
  async close(graceMs: number): Promise<void> {
    clearInterval(this.#keepalive);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const session of this.#sessions.keys()) session.close();
    const timer = setTimeout(() => {
      for (const session of this.#sessions.keys()) session.destroy();
      for (const socket of this.#sockets) socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }

  #onSession(session: http2.ServerHttp2Session): void {
    // The first ping goes out at a random point of the first interval: connections opened together
    // (a fleet of proxies after a restart) are then pinged a few at a time, not all in one burst.
    this.#sessions.set(session, { answeredAt: performance.now() - Math.random() * this.#keepaliveMs, sentAt: undefined });
    session.setLocalWindowSize(RECEIVE_WINDOW);
    session.on('error', () => {}); // the streams report what concerns them
    session.on('close', () => this.#sessions.delete(session));
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => {}); // calls attach their own handlers; a stream refused here has nothing to report
    const contentType = headers['content-type'] ?? '';
    if (headers[':method'] !== 'POST' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415, 'content-type': 'text/plain' });
      stream.end('weft control: this port speaks gRPC (ADS) only\n');
      return;
    }
    const open = this.#methods.get(headers[':path'] ?? '');
    if (open === undefined) {
      stream.respond({
        ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(GrpcStatus.UNIMPLEMENTED),
        'grpc-message': encodeGrpcMessage(`unknown method ${headers[':path'] ?? ''}: this server offers ${ADS_SERVICE}`),
      }, { endStream: true });
      return;
    }
    open(stream, headers);
  }

  #ping(): void {
    const now = performance.now();
    for (const [session, state] of this.#sessions) {
      if (state.sentAt !== undefined) {
        if (now - state.sentAt > this.#keepaliveTimeoutMs) session.destroy(new Error('keepalive ping not answered'));
        continue;
      }
      if (now - state.answeredAt < this.#keepaliveMs || session.destroyed || session.closed) continue;
      state.sentAt = now;
      session.ping((err) => {
        if (err !== null) return;
        state.sentAt = undefined;
        state.answeredAt = performance.now();
      });
    }
  }
}
