/**
 * The client side of one bidirectional-streaming gRPC call, as the gRPC over HTTP/2 spec lays it out
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): a POST with
 * `content-type: application/grpc` and `te: trailers`, length-prefixed messages both ways, the status in
 * the trailers (or in a trailers-only response). Each call has an HTTP/2 connection of its own (weft's
 * codec, `codec/http2/session.ts`, as the data path's), which lives exactly as long as the call: the ADS
 * client runs one stream at a time and reconnects with backoff itself, so there is no channel to manage.
 * Why not grpc-js's client: a sidecar runs in every workload, and grpc-js (channel stack, resolver,
 * load balancer, interceptors) cost each one ~3 MB of V8 heap and ~8 MB of resident memory for one
 * stream that ADS needs. Why not node:http2: it brings node:tls and OpenSSL's start-up into every sidecar
 * (2.6 MB anonymous, 7 MB resident), and the data path already has a codec. This does what that stream
 * needs: no compression, no metadata beyond the status, keepalive pings so that a silently dead control
 * plane is noticed.
 */

import net from 'node:net';
import { DEFAULT_SETTINGS, H2Session, type SessionHandler } from '../codec/http2/session.ts';
import type { H2Stream, StreamListener } from '../codec/http2/stream.ts';
import { ErrorCode, errorName } from '../codec/http2/frames.ts';
import { MalformedError, responseHead, trailerFields } from '../codec/http2/fields.ts';
import type { HeaderMap } from '../http/headers.ts';
import { frameMessage, MessageReader, MessageTooLarge } from '../../xds/grpc-frames.ts';
import { decodeGrpcMessage, GrpcStatus, grpcStatusName } from '../../xds/grpc-status.ts';

export interface StreamStatus {
  readonly code: number;
  readonly details: string;
}

export interface StreamOptions<Req, Res> {
  /** `host:port` (`[v6]:port`) of a plaintext HTTP/2 (h2c) gRPC server. */
  readonly target: string;
  /** `/package.Service/Method`. */
  readonly path: string;
  readonly encode: (request: Req) => Uint8Array;
  /** Decodes one response; a throw ends the call with INTERNAL. */
  readonly decode: (message: Buffer) => Res;
  /** Larger responses end the call with RESOURCE_EXHAUSTED. */
  readonly maxResponseBytes: number;
  /** Ping the server after this long without a frame from it (ms; Infinity: never). */
  readonly keepaliveMs: number;
  /** …and end the call with UNAVAILABLE when the ping is not answered within this (ms). */
  readonly keepaliveTimeoutMs: number;
  readonly userAgent: string;
  /** A response arrived (decoded). */
  readonly onMessage: (response: Res) => void;
  /** The call is over, with its status; called once, and never after `cancel`. */
  readonly onStatus: (status: StreamStatus) => void;
}

export class GrpcStream<Req, Res> implements StreamListener, SessionHandler {
  readonly #opts: StreamOptions<Req, Res>;
  readonly #socket: net.Socket;
  #session: H2Session | undefined;
  #stream: H2Stream | undefined;
  /** Requests written before the connection was up. */
  #unsent: Buffer[] = [];
  readonly #reader: MessageReader;
  #responded = false;
  /** The server's SETTINGS arrived: it speaks HTTP/2. */
  #http2 = false;
  #socketError: Error | undefined;
  #status: StreamStatus | undefined;
  #done = false;
  #keepalive: NodeJS.Timeout | undefined;
  /** The unanswered ping's (or the pending connection's) deadline. */
  #deadline: NodeJS.Timeout | undefined;
  #lastHeard = performance.now();
  #pinging = false;

  constructor(opts: StreamOptions<Req, Res>) {
    this.#opts = opts;
    this.#reader = new MessageReader(opts.maxResponseBytes);
    const { host, port } = splitTarget(opts.target);
    this.#socket = net.connect({ host, port });
    this.#socket.once('connect', () => this.#connected());
    this.#socket.on('error', (e) => {
      this.#socketError = e;
      // Before the session exists nothing else listens: a refused or failed connection ends the call here.
      if (this.#session === undefined) this.#fail(GrpcStatus.UNAVAILABLE, connectionProblem(opts.target, e, false));
    });
    if (Number.isFinite(opts.keepaliveMs)) this.#armKeepalive(opts.keepaliveMs);
  }

  /** Sends one request (queued by HTTP/2 flow control when the server is slow to read). */
  write(request: Req): void {
    if (this.#done) return;
    const message = frameMessage(this.#opts.encode(request));
    if (this.#stream === undefined) this.#unsent.push(message);
    else this.#stream.write(message);
  }

  /** Ends the call from this side; `onStatus` is not called. */
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#cleanup();
  }

  #connected(): void {
    if (this.#done) return;
    this.#heard();
    if (this.#deadline !== undefined) {
      // The keepalive check found no connection yet and gave it until now.
      clearTimeout(this.#deadline);
      this.#deadline = undefined;
      this.#pinging = false;
      this.#armKeepalive(this.#opts.keepaliveMs);
    }
    const session = new H2Session(this.#socket, 'client', DEFAULT_SETTINGS, this);
    this.#session = session;
    const o = this.#opts;
    this.#stream = session.request([
      ':method', 'POST', ':scheme', 'http', ':path', o.path, ':authority', o.target,
      'content-type', 'application/grpc', 'te', 'trailers', 'user-agent', o.userAgent,
    ], false, this);
    for (const message of this.#unsent) this.#stream.write(message);
    this.#unsent = [];
  }

  // ---- the session (SessionHandler) ----

  stream(): void {} // a server opens no streams (push is off)

  settings(): void {
    this.#http2 = true;
    this.#heard();
  }

  goaway(): void {
    this.#heard();
  }

  close(error: Error | undefined): void {
    const cause = error ?? this.#socketError;
    this.#fail(GrpcStatus.UNAVAILABLE, cause === undefined
      ? `connection to ${this.#opts.target} closed${this.#http2 ? '' : HINT_NOT_GRPC}`
      : connectionProblem(this.#opts.target, cause, !this.#http2));
  }

  // ---- the call's stream (StreamListener) ----

  streamHeaders(fields: string[], endStream: boolean): void {
    this.#heard();
    if (this.#done) return;
    try {
      if (!this.#responded) {
        const head = responseHead(fields);
        if (head.status < 200) return;
        this.#responded = true;
        if (head.status !== 200) {
          this.#fail(GrpcStatus.UNKNOWN, `HTTP status ${head.status} from ${this.#opts.target}${this.#opts.path} (not a gRPC server?)`);
          return;
        }
        // A trailers-only response: the status comes with the headers and the stream ends.
        if (head.headers['grpc-status'] !== undefined) this.#status = statusOf(head.headers);
        else if (!String(head.headers['content-type'] ?? '').startsWith('application/grpc')) {
          this.#fail(GrpcStatus.UNKNOWN, `content-type ${JSON.stringify(head.headers['content-type'] ?? '')} from ${this.#opts.target} is not gRPC`);
          return;
        }
      } else {
        const trailers = trailerFields(fields);
        if (trailers['grpc-status'] !== undefined) this.#status = statusOf(trailers);
      }
    } catch (err) {
      if (!(err instanceof MalformedError)) throw err;
      this.#fail(GrpcStatus.INTERNAL, `malformed response from ${this.#opts.target}: ${err.message}`);
      return;
    }
    if (endStream) this.#ended();
  }

  streamData(chunk: Buffer, endStream: boolean): void {
    this.#heard();
    if (this.#done) return;
    if (chunk.length > 0) this.#onData(chunk);
    if (endStream) this.#ended();
  }

  streamDrain(): void {}

  streamClose(code: number, remote: boolean): void {
    // A connection going away closes its streams first: its own `close` names the cause.
    if (this.#session?.closed === true) return;
    this.#finish(this.#status ?? { code: GrpcStatus.UNAVAILABLE, details: code === ErrorCode.NO_ERROR ? 'the stream ended without a status' : `the stream was reset${remote ? '' : ' by this end'} (HTTP/2 ${errorName(code)})` });
  }

  /** The server's end of the stream is the end of the call, though this side never half-closes. */
  #ended(): void {
    this.#finish(this.#status ?? { code: GrpcStatus.UNKNOWN, details: 'the server ended the call without a grpc-status' });
  }

  #onData(chunk: Buffer): void {
    try {
      this.#reader.push(chunk, (compressed, body) => {
        if (compressed) {
          this.#fail(GrpcStatus.INTERNAL, 'the server sent a compressed message, and no compression was negotiated');
          return false;
        }
        let response: Res;
        try {
          response = this.#opts.decode(body);
        } catch (e) {
          this.#fail(GrpcStatus.INTERNAL, `a response could not be decoded: ${(e as Error).message}`);
          return false;
        }
        this.#opts.onMessage(response);
        return !this.#done;
      });
    } catch (e) {
      if (!(e instanceof MessageTooLarge)) throw e;
      this.#fail(GrpcStatus.RESOURCE_EXHAUSTED, `response of ${e.length} bytes exceeds the limit of ${e.limit}`);
    }
  }

  /** Ends the call with a status of this side's making. */
  #fail(code: number, details: string): void {
    this.#finish({ code, details });
  }

  #finish(status: StreamStatus): void {
    if (this.#done) return;
    this.#done = true;
    this.#cleanup();
    this.#opts.onStatus(status);
  }

  #cleanup(): void {
    clearTimeout(this.#keepalive);
    clearTimeout(this.#deadline);
    this.#reader.clear();
    this.#unsent = [];
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed) stream.reset(ErrorCode.CANCEL);
    this.#session?.destroy();
    this.#socket.destroy();
  }

  #heard(): void {
    this.#lastHeard = performance.now();
  }

  #armKeepalive(ms: number): void {
    clearTimeout(this.#keepalive);
    this.#keepalive = setTimeout(() => this.#checkAlive(), ms);
    this.#keepalive.unref();
  }

  #checkAlive(): void {
    if (this.#done || this.#pinging) return;
    const { keepaliveMs, keepaliveTimeoutMs, target } = this.#opts;
    const quiet = performance.now() - this.#lastHeard;
    if (quiet < keepaliveMs) {
      this.#armKeepalive(keepaliveMs - quiet);
      return;
    }
    this.#pinging = true;
    const session = this.#session;
    this.#deadline = setTimeout(() => this.#fail(GrpcStatus.UNAVAILABLE, session === undefined
      ? `no connection to ${target} within ${keepaliveMs + keepaliveTimeoutMs} ms`
      : `keepalive ping to ${target} not answered within ${keepaliveTimeoutMs} ms`), keepaliveTimeoutMs);
    this.#deadline.unref();
    if (session === undefined) return; // still connecting: #connected clears the deadline
    session.ping((acked) => {
      if (!acked) return; // the session ended: its close ends the call
      clearTimeout(this.#deadline);
      this.#deadline = undefined;
      this.#pinging = false;
      this.#heard();
      this.#armKeepalive(keepaliveMs);
    });
  }
}

const HINT_NOT_GRPC = ' (the server there does not speak gRPC over HTTP/2: is it the xDS port?)';

/** `host:port` or `[v6]:port`. */
function splitTarget(target: string): { host: string; port: number } {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? 'localhost' : host, port: Number(target.slice(colon + 1)) };
}

/** What went wrong with the connection, with a hint for the usual mistakes (wrong port, nothing running). */
function connectionProblem(target: string, e: Error, notHttp2: boolean): string {
  const code = (e as NodeJS.ErrnoException).code;
  const hint = code === 'ECONNREFUSED' ? ' (nothing listens there)' : notHttp2 ? HINT_NOT_GRPC : '';
  return `${target}: ${e.message}${hint}`;
}

function statusOf(h: HeaderMap): StreamStatus {
  const raw = h['grpc-status'];
  const code = Number(Array.isArray(raw) ? raw[0] : raw);
  const message = h['grpc-message'];
  return {
    code: Number.isInteger(code) && code >= 0 ? code : GrpcStatus.UNKNOWN,
    details: decodeGrpcMessage(Array.isArray(message) ? message.join(',') : message ?? ''),
  };
}

/** `UNAVAILABLE: connection refused`, as logs show a status. */
export function formatStatus(status: StreamStatus): string {
  return `${grpcStatusName(status.code)}: ${status.details}`;
}
