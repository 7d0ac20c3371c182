/**
 * The HTTP connection manager network filter for one HCM config: takes accepted connections from the
 * listener, picks the codec (`codec_type`, ALPN, or the HTTP/2 preface), feeds the socket to a node:http
 * or node:http2 server that never listens itself (`emit('connection')`, replaying bytes read ahead), and
 * runs an ActiveStream per request. It owns connection-level behaviour: codec errors as 400/431/408 local
 * replies with `x-weft-error` (DPE), idle timeout, max requests and max duration per connection, and
 * draining (HTTP/1 `Connection: close`, HTTP/2 GOAWAY).
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/http_connection_management
 */
import type { IncomingMessage, Server as H1Server, ServerResponse } from 'node:http';
import http2, { type IncomingHttpHeaders as H2Headers, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { http } from '../core/builtins.ts';
import type { ConnectionInfo, NetworkFilter } from '../core/contracts.ts';
import { ActiveStream, type HcmRuntime } from './active-stream.ts';
import { alpnCodec, sniffCodec, type Codec } from './codec-detect.ts';
import { H1Downstream, type H1ConnectionState } from './downstream-h1.ts';
import { H2Downstream } from './downstream-h2.ts';
import type { ConnectionFacts } from './filter-stream.ts';
import { ERROR_HEADER, headerSafe } from './local-reply.ts';
import { FLAG, StreamInfo } from './stream-info.ts';

interface Connection {
  readonly socket: Socket;
  readonly facts: ConnectionFacts;
  readonly h1: H1ConnectionState;
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
  readonly #bySocket = new WeakMap<Socket, Connection>();
  #h1: H1Server | undefined;
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
      h1: { closeAfterResponse: this.#draining },
      session: undefined,
      codec: undefined,
      requests: 0,
      timer: undefined,
    };
    const s = this.#rt.stats;
    s.cxTotal.value++;
    s.cxActive.value++;
    this.#connections.add(conn);
    this.#bySocket.set(socket, conn);
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
    this.#h1Server().emit('connection', socket);
    // node:http parses straight from the socket handle; bytes already read are fed to its parser here.
    if (bytes.length > 0) socket.emit('data', bytes);
    socket.resume();
  }

  #closed(conn: Connection): void {
    const s = this.#rt.stats;
    s.cxActive.value--;
    if (conn.codec !== undefined) (conn.codec === 'h2' ? s.cxHttp2Active : s.cxHttp1Active).value--;
    if (conn.timer !== undefined) clearTimeout(conn.timer);
    this.#connections.delete(conn);
  }

  #maxDuration(conn: Connection): void {
    conn.timer = undefined;
    this.#rt.stats.cxMaxDurationReached.value++;
    this.#drainConnection(conn);
  }

  #drainConnection(conn: Connection): void {
    conn.h1.closeAfterResponse = true;
    if (conn.session !== undefined) {
      if (!conn.session.closed) conn.session.close();
    } else if (this.#h1 !== undefined && (conn.socket as { _httpMessage?: unknown })._httpMessage == null) {
      // No response in flight on this HTTP/1 connection: close it now.
      conn.socket.end();
    }
  }

  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#release();
    for (const conn of this.#connections) this.#drainConnection(conn);
    // Stops node's per-server timeout checker (an interval that would keep this filter alive forever);
    // responses in flight still finish, with `Connection: close`.
    this.#h1?.close(noop);
  }

  #h1Server(): H1Server {
    if (this.#h1 !== undefined) return this.#h1;
    const c = this.#rt.config;
    const server = http.createServer({
      maxHeaderSize: c.maxRequestHeadersBytes,
      requestTimeout: c.requestTimeoutMs,
      headersTimeout: c.requestHeadersTimeoutMs > 0 ? c.requestHeadersTimeoutMs : c.requestTimeoutMs,
      keepAliveTimeout: c.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor((c.requestHeadersTimeoutMs || c.requestTimeoutMs || 30_000) / 4))),
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onH1Request(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#onH1Raw(req, socket, head));
    server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#onH1Raw(req, socket, head));
    server.on('clientError', (err: Error, socket: Socket) => this.#onClientError(err, socket));
    // Node checks header and request timeouts only for servers that emitted 'listening'; this one never listens.
    server.emit('listening');
    this.#h1 = server;
    return server;
  }

  #onH1Request(req: IncomingMessage, res: ServerResponse): void {
    const conn = this.#bySocket.get(req.socket);
    if (conn === undefined) {
      res.destroy();
      return;
    }
    new ActiveStream(this.#rt, new H1Downstream(req, res, conn.h1, this.#countRequest(conn)), conn.facts).start();
  }

  #onH1Raw(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const conn = this.#bySocket.get(socket);
    if (conn === undefined) {
      socket.destroy();
      return;
    }
    new ActiveStream(this.#rt, new H1Downstream(req, undefined, conn.h1, this.#countRequest(conn), { socket, head }), conn.facts).start();
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

  /** A request node's parser rejected (smuggling, bad framing, oversized or slow headers): answer and close. */
  #onClientError(err: Error & { code?: string; reason?: string }, socket: Socket): void {
    const code = err.code ?? '';
    const s = this.#rt.stats;
    if (code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true) {
      socket.destroy();
      return;
    }
    const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    if (status === 408) s.rqHeaderTimeout.value++;
    else s.cxProtocolError.value++;
    if (status === 431) s.rqTooLarge.value++;
    const cause = headerSafe(status === 408 ? 'request headers timeout' : `malformed HTTP request: ${code}${err.reason !== undefined ? ` (${err.reason})` : ''}`);
    const body = `${cause}\n`;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${ERROR_HEADER}: ${cause}\r\n\r\n${body}`);
    s.status(status);
    this.#logCodecError(socket, status, cause);
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
