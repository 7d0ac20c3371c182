/**
 * The HTTP connection manager network filter for one HCM config: takes accepted connections from the
 * listener, picks the codec (`codec_type`, ALPN, or the HTTP/2 preface), runs HTTP/1.x on weft's own
 * codec (`H1Connection`) and HTTP/2 on a node:http2 server that never listens itself
 * (`emit('connection')`, replaying bytes read ahead), and runs an ActiveStream per request. It owns
 * connection-level behaviour: codec errors as 400/408/431/501 replies with `x-weft-error` (DPE) in the
 * access log, the timeout sweep of HTTP/1 connections, idle timeout, max requests and max duration per
 * connection, and draining (HTTP/1 `Connection: close`, HTTP/2 GOAWAY).
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_connection_management
 */
import http2, { type IncomingHttpHeaders as H2Headers, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { ConnectionInfo, NetworkFilter } from '../core/contracts.ts';
import { ActiveStream, type HcmRuntime } from './active-stream.ts';
import { alpnCodec, sniffCodec, type Codec } from './codec-detect.ts';
import { H2Downstream } from './downstream-h2.ts';
import type { ConnectionFacts } from './filter-stream.ts';
import { H1Connection, type H1Hooks, type H1Settings } from './h1-connection.ts';
import { FLAG, StreamInfo } from './stream-info.ts';

interface Connection {
  readonly socket: Socket;
  readonly facts: ConnectionFacts;
  h1: H1Connection | undefined;
  session: ServerHttp2Session | undefined;
  codec: Codec | undefined;
  requests: number;
  timer: NodeJS.Timeout | undefined;
}

function noop(): void {}

export class HttpConnectionManager implements NetworkFilter {
  readonly #rt: HcmRuntime;
  readonly #release: () => void;
  readonly #connections = new Set<Connection>();
  #h1Settings: H1Settings | undefined;
  /** Checks HTTP/1 connections' timeouts while the filter has connections. */
  #sweep: NodeJS.Timeout | undefined;
  #h2: http2.Http2Server | undefined;
  /** The connection being handed to the HTTP/2 server ('session' fires synchronously inside emit). */
  #handing: Connection | undefined;
  #draining = false;

  /** `release` withdraws this filter's interest in its RDS route name (called on drain). */
  constructor(rt: HcmRuntime, release: () => void) {
    this.#rt = rt;
    this.#release = release;
  }

  onConnection(info: ConnectionInfo): void {
    const socket = info.socket;
    socket.on('error', noop);
    const conn: Connection = {
      socket,
      facts: { remoteAddress: info.remoteAddress, remotePort: info.remotePort, localAddress: info.localAddress, localPort: info.localPort, tls: info.transport === 'tls' },
      h1: undefined,
      session: undefined,
      codec: undefined,
      requests: 0,
      timer: undefined,
    };
    const s = this.#rt.stats;
    s.cxTotal.value++;
    s.cxActive.value++;
    this.#connections.add(conn);
    socket.once('close', () => this.#closed(conn));
    const maxMs = this.#rt.config.maxConnectionDurationMs;
    if (maxMs > 0) conn.timer = setTimeout(() => this.#maxDuration(conn), maxMs);
    const codec = this.#rt.config.codec;
    const fixed: Codec | undefined = codec === 'HTTP1' ? 'h1' : codec === 'HTTP2' ? 'h2' : alpnCodec(socket);
    if (fixed !== undefined) {
      this.#serve(conn, fixed, info.preread ?? Buffer.alloc(0));
      return;
    }
    const wait = this.#rt.config.requestHeadersTimeoutMs || this.#rt.config.idleTimeoutMs;
    sniffCodec(socket, info.preread, wait, (found, bytes) => {
      if (found === undefined) socket.destroy();
      else this.#serve(conn, found, bytes);
    });
  }

  #serve(conn: Connection, codec: Codec, bytes: Buffer): void {
    const socket = conn.socket;
    const s = this.#rt.stats;
    conn.codec = codec;
    if (codec === 'h2') {
      s.cxHttp2Total.value++;
      s.cxHttp2Active.value++;
      socket.pause();
      if (bytes.length > 0) socket.unshift(bytes);
      this.#handing = conn;
      this.#h2Server().emit('connection', socket);
      this.#handing = undefined;
      return;
    }
    s.cxHttp1Total.value++;
    s.cxHttp1Active.value++;
    const settings = this.#settingsH1();
    conn.h1 = new H1Connection(socket, bytes, settings, this.#hooks(conn), this.#draining);
    if (this.#sweep === undefined) {
      const tick = sweepInterval(settings);
      if (tick > 0) this.#sweep = setInterval(() => this.#checkTimers(), tick).unref();
    }
  }

  #hooks(conn: Connection): H1Hooks {
    return {
      countRequest: () => this.#countRequest(conn),
      exchange: (ex) => new ActiveStream(this.#rt, ex, conn.facts).start(),
      codecError: (status, cause) => this.#codecError(conn, status, cause),
      idleTimeout: () => this.#rt.stats.cxIdleTimeout.value++,
    };
  }

  #settingsH1(): H1Settings {
    if (this.#h1Settings !== undefined) return this.#h1Settings;
    const c = this.#rt.config;
    // Field count is checked by the stream (431 naming the count and the limit); the head size here.
    this.#h1Settings = {
      limits: { maxHeadBytes: c.maxRequestHeadersBytes, maxFields: Math.max(10_000, c.maxHeadersCount) },
      requestHeadersTimeoutMs: c.requestHeadersTimeoutMs,
      requestTimeoutMs: c.requestTimeoutMs,
      idleTimeoutMs: c.idleTimeoutMs,
    };
    return this.#h1Settings;
  }

  #checkTimers(): void {
    const now = performance.now();
    for (const conn of this.#connections) conn.h1?.checkTimers(now);
  }

  #closed(conn: Connection): void {
    const s = this.#rt.stats;
    s.cxActive.value--;
    if (conn.codec !== undefined) (conn.codec === 'h2' ? s.cxHttp2Active : s.cxHttp1Active).value--;
    if (conn.timer !== undefined) clearTimeout(conn.timer);
    this.#connections.delete(conn);
    if (this.#connections.size === 0 && this.#sweep !== undefined) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  #maxDuration(conn: Connection): void {
    conn.timer = undefined;
    this.#rt.stats.cxMaxDurationReached.value++;
    this.#drainConnection(conn);
  }

  #drainConnection(conn: Connection): void {
    if (conn.session !== undefined) {
      if (!conn.session.closed) conn.session.close();
    } else conn.h1?.drain();
  }

  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#release();
    // Responses in flight still finish, with `Connection: close` (HTTP/1) or after GOAWAY (HTTP/2).
    for (const conn of this.#connections) this.#drainConnection(conn);
  }

  /** Counts a request on `conn`; true when it is the last one max_requests_per_connection allows. */
  #countRequest(conn: Connection): boolean {
    conn.requests++;
    const max = this.#rt.config.maxRequestsPerConnection;
    if (max <= 0 || conn.requests < max) return false;
    // HTTP/2: GOAWAY now; streams already open finish. HTTP/1: this response closes the connection.
    if (conn.session !== undefined && !conn.session.closed) conn.session.close();
    return true;
  }

  /** A request the codec could not read, or whose headers came too slowly (the codec answered it). */
  #codecError(conn: Connection, status: number, cause: string): void {
    const s = this.#rt.stats;
    if (status === 408) s.rqHeaderTimeout.value++;
    else s.cxProtocolError.value++;
    if (status === 431) s.rqTooLarge.value++;
    s.status(status);
    this.#logCodecError(conn.socket, status, cause);
  }

  #logCodecError(socket: Socket, status: number, cause: string): void {
    const log = this.#rt.accessLog;
    if (log === undefined) return;
    const info = new StreamInfo();
    info.responseCode = status;
    info.setFlag(status === 408 ? 0 : FLAG.DPE);
    info.details = status === 408 ? 'request_header_timeout' : 'codec_error';
    info.cause = cause;
    info.downstreamRemote = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    info.durationMs = 0;
    try {
      log(info);
    } catch {
      // Access logging never breaks the data path.
    }
  }

  #h2Server(): http2.Http2Server {
    if (this.#h2 !== undefined) return this.#h2;
    const c = this.#rt.config;
    const websocket = [...c.upgrades.keys()].some((t) => t !== 'connect');
    const server = http2.createServer({
      settings: {
        maxConcurrentStreams: Math.min(c.http2MaxConcurrentStreams, 2 ** 31 - 1),
        maxHeaderListSize: c.maxRequestHeadersBytes,
        enableConnectProtocol: websocket,
        ...(c.http2InitialStreamWindow !== undefined ? { initialWindowSize: c.http2InitialStreamWindow } : {}),
      },
      maxHeaderListPairs: Math.max(128, c.maxHeadersCount * 2),
    });
    server.on('session', (session: ServerHttp2Session) => this.#onSession(session));
    server.on('stream', (stream: ServerHttp2Stream, headers: H2Headers, _flags: number, raw: string[]) => this.#onH2Stream(stream, headers, raw));
    server.on('sessionError', noop);
    this.#h2 = server;
    return server;
  }

  #onSession(session: ServerHttp2Session): void {
    const conn = this.#handing;
    if (conn === undefined) {
      session.destroy();
      return;
    }
    conn.session = session;
    session.on('error', noop);
    const c = this.#rt.config;
    if (c.http2InitialConnectionWindow !== undefined) {
      try {
        session.setLocalWindowSize(c.http2InitialConnectionWindow);
      } catch {
        // Window sizes out of range keep node's default.
      }
    }
    if (c.idleTimeoutMs > 0) session.setTimeout(c.idleTimeoutMs, () => {
      this.#rt.stats.cxIdleTimeout.value++;
      session.close();
    });
    if (this.#draining) session.close();
    sessionConnections.set(session, conn);
  }

  #onH2Stream(stream: ServerHttp2Stream, headers: H2Headers, raw: string[]): void {
    const conn = stream.session === undefined ? undefined : sessionConnections.get(stream.session as ServerHttp2Session);
    if (conn === undefined) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.#countRequest(conn);
    let count = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 0x3a) count++;
    new ActiveStream(this.#rt, new H2Downstream(stream, headers, count), conn.facts).start();
  }
}

const sessionConnections = new WeakMap<ServerHttp2Session, Connection>();

/** How often HTTP/1 timeouts are checked: a quarter of the shortest, between 25 ms and 1 s; 0 when none is set. */
function sweepInterval(s: H1Settings): number {
  let shortest = Infinity;
  for (const ms of [s.requestHeadersTimeoutMs, s.requestTimeoutMs, s.idleTimeoutMs]) if (ms > 0 && ms < shortest) shortest = ms;
  return shortest === Infinity ? 0 : Math.max(25, Math.min(1000, Math.floor(shortest / 4)));
}
