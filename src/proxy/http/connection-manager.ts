/**
 * The HTTP connection manager network filter for one HCM config: takes accepted connections from the
 * listener, picks the codec (`codec_type`, ALPN, or the HTTP/2 preface), runs HTTP/1.x on weft's own
 * codec (`H1Connection`) and HTTP/2 on weft's own codec (`H2Session`, given the bytes read ahead),
 * and runs an ActiveStream per request. It owns
 * connection-level behaviour: codec errors as 400/408/431/501 replies with `x-weft-error` (DPE) in the
 * access log, malformed HTTP/2 requests as stream resets, the timeout sweep (HTTP/1 timeouts, and idle
 * HTTP/2 connections: no stream open for idle_timeout), max requests and max duration per
 * connection, and draining (HTTP/1 `Connection: close`, HTTP/2 GOAWAY).
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_connection_management
 */
import type { Socket } from 'node:net';
import { ErrorCode } from '../codec/http2/frames.ts';
import { MalformedError, requestHead, type RequestHead } from '../codec/http2/fields.ts';
import { DEFAULT_SETTINGS, H2Session, type SessionSettings } from '../codec/http2/session.ts';
import type { H2Stream } from '../codec/http2/stream.ts';
import type { ConnectionInfo, NetworkFilter } from '../core/contracts.ts';
import { ActiveStream, type HcmRuntime } from './active-stream.ts';
import { alpnCodec, sniffCodec, type Codec } from './codec-detect.ts';
import { H2Downstream } from './downstream-h2.ts';
import type { ConnectionFacts } from './filter-stream.ts';
import { H1Connection, type H1Hooks, type H1Settings } from './h1-connection.ts';
import { ERROR_HEADER } from './local-reply.ts';
import { FLAG, StreamInfo } from './stream-info.ts';

interface Connection {
  readonly socket: Socket;
  readonly facts: ConnectionFacts;
  h1: H1Connection | undefined;
  session: H2Session | undefined;
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
  #h2Settings: SessionSettings | undefined;
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
      conn.session = new H2Session(socket, 'server', this.#settingsH2(), {
        stream: (stream, fields, endStream, size) => this.#onH2Stream(conn, stream, fields, endStream, size),
        goaway: noop,
        close: () => socket.destroySoon(),
      }, bytes, s.h2Codec);
      if (this.#draining) conn.session.goaway();
      this.#startSweep();
      return;
    }
    s.cxHttp1Total.value++;
    s.cxHttp1Active.value++;
    const settings = this.#settingsH1();
    conn.h1 = new H1Connection(socket, bytes, settings, this.#hooks(conn), this.#draining);
    this.#startSweep();
  }

  #startSweep(): void {
    if (this.#sweep !== undefined) return;
    const tick = sweepInterval(this.#settingsH1());
    if (tick > 0) this.#sweep = setInterval(() => this.#checkTimers(), tick).unref();
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
      request: { http10: c.http10, absoluteUrls: c.allowAbsoluteUrl },
      requestHeadersTimeoutMs: c.requestHeadersTimeoutMs,
      requestTimeoutMs: c.requestTimeoutMs,
      idleTimeoutMs: c.idleTimeoutMs,
    };
    return this.#h1Settings;
  }

  #checkTimers(): void {
    const now = performance.now();
    const idle = this.#rt.config.idleTimeoutMs;
    for (const conn of this.#connections) {
      if (conn.h1 !== undefined) conn.h1.checkTimers(now);
      else if (conn.session !== undefined) this.#checkH2Timers(conn.session, now, idle);
    }
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
    if (conn.session !== undefined) conn.session.goaway();
    else conn.h1?.drain();
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
    conn.session?.goaway();
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

  /** An HTTP/2 connection with no stream for idle_timeout gets GOAWAY; a request still arriving after request_timeout, 408. */
  #checkH2Timers(session: H2Session, now: number, idle: number): void {
    if (session.closed) return;
    if (session.activeStreams === 0) {
      if (idle > 0 && now - session.idleSince >= idle) {
        this.#rt.stats.cxIdleTimeout.value++;
        session.goaway();
      }
      return;
    }
    const limit = this.#rt.config.requestTimeoutMs;
    if (limit <= 0) return;
    for (const stream of session.openStreams()) {
      const ex = stream.listener;
      if (ex instanceof H2Downstream && !ex.requestDone && now - stream.openedAt >= limit) ex.requestTimedOut();
    }
  }

  #settingsH2(): SessionSettings {
    if (this.#h2Settings !== undefined) return this.#h2Settings;
    const c = this.#rt.config;
    this.#h2Settings = {
      ...DEFAULT_SETTINGS,
      maxConcurrentStreams: Math.min(c.http2MaxConcurrentStreams, 2 ** 31 - 1),
      maxHeaderListSize: c.maxRequestHeadersBytes,
      enableConnectProtocol: [...c.upgrades.keys()].some((t) => t !== 'connect'),
      ...(c.http2InitialStreamWindow !== undefined ? { initialWindowSize: c.http2InitialStreamWindow } : {}),
      ...(c.http2InitialConnectionWindow !== undefined ? { connectionWindowSize: c.http2InitialConnectionWindow } : {}),
    };
    return this.#h2Settings;
  }

  #onH2Stream(conn: Connection, stream: H2Stream, fields: string[], endStream: boolean, headerListSize: number): void {
    const limit = this.#rt.config.maxRequestHeadersBytes;
    if (headerListSize > limit) {
      // As the HTTP/1 codec does: 431, naming the size and the limit (the block was decoded, for HPACK's sake).
      const cause = `request headers too large (${headerListSize} bytes, at most ${limit})`;
      stream.sendHeaders([':status', '431', ERROR_HEADER, cause, 'content-length', '0'], true);
      if (!stream.closed) stream.reset(ErrorCode.NO_ERROR); // the request body, if any, is not wanted
      this.#codecError(conn, 431, cause);
      return;
    }
    let head: RequestHead;
    try {
      head = requestHead(fields);
      // A content-length the (absent) DATA cannot match: malformed (RFC 9113 §8.1.1), and never sent on
      // with its length to an HTTP/1.1 upstream, which would read the next request as this one's body.
      if (endStream && head.contentLength > 0) throw new MalformedError(`content-length ${head.contentLength} on a request with no body`);
    } catch (err) {
      if (!(err instanceof MalformedError)) throw err;
      // A malformed request gets no response (RFC 9113 §8.1.1): the stream is reset, and the access log says why.
      this.#rt.stats.h2Codec.rxMessagingError.value++;
      stream.reset(ErrorCode.PROTOCOL_ERROR);
      this.#codecError(conn, 400, `malformed HTTP/2 request: ${err.message}`);
      return;
    }
    if (head.contentLength >= 0) stream.expectedLength = head.contentLength;
    this.#countRequest(conn);
    new ActiveStream(this.#rt, new H2Downstream(stream, head, endStream), conn.facts).start();
  }
}

/** How often HTTP/1 timeouts are checked: a quarter of the shortest, between 25 ms and 1 s; 0 when none is set. */
function sweepInterval(s: H1Settings): number {
  let shortest = Infinity;
  for (const ms of [s.requestHeadersTimeoutMs, s.requestTimeoutMs, s.idleTimeoutMs]) if (ms > 0 && ms < shortest) shortest = ms;
  return shortest === Infinity ? 0 : Math.max(25, Math.min(1000, Math.floor(shortest / 4)));
}
