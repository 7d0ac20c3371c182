/**
 * The client side of one bidirectional-streaming gRPC call over node:http2, as the gRPC over HTTP/2 spec
 * lays it out (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): a POST with
 * `content-type: application/grpc` and `te: trailers`, length-prefixed messages both ways, the status in
 * the trailers (or in a trailers-only response). Each call has an HTTP/2 connection of its own, which
 * lives exactly as long as the call: the ADS client runs one stream at a time and reconnects with
 * backoff itself, so there is no channel to manage.
 * Why not grpc-js's client: a sidecar runs in every workload, and grpc-js (channel stack, resolver,
 * load balancer, interceptors) cost each one ~3 MB of V8 heap and ~8 MB of resident memory for one
 * stream that ADS needs. This does what that stream needs: no compression, no metadata beyond the
 * status, keepalive pings so that a silently dead control plane is noticed.
 */

import http2 from 'node:http2';
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

const { NGHTTP2_CANCEL } = http2.constants;

export class GrpcStream<Req, Res> {
  readonly #opts: StreamOptions<Req, Res>;
  readonly #session: http2.ClientHttp2Session;
  readonly #stream: http2.ClientHttp2Stream;
  readonly #reader: MessageReader;
  #status: StreamStatus | undefined;
  #done = false;
  #keepalive: NodeJS.Timeout | undefined;
  #lastHeard = performance.now();
  #pinging = false;

  constructor(opts: StreamOptions<Req, Res>) {
    this.#opts = opts;
    this.#reader = new MessageReader(opts.maxResponseBytes);
    this.#session = http2.connect(`http://${opts.target}`, { settings: { enablePush: false } });
    this.#session.on('error', (e) => this.#finish({ code: GrpcStatus.UNAVAILABLE, details: connectionProblem(opts.target, e) }));
    this.#session.on('goaway', () => this.#heard());
    this.#session.on('close', () => this.#finish({ code: GrpcStatus.UNAVAILABLE, details: `connection to ${opts.target} closed` }));
    this.#stream = this.#session.request({
      ':method': 'POST', ':path': opts.path, 'content-type': 'application/grpc', te: 'trailers', 'user-agent': opts.userAgent,
    });
    this.#stream.on('response', (headers) => this.#onHeaders(headers));
    this.#stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#stream.on('trailers', (trailers) => this.#onTrailers(trailers));
    // The server's end of the stream is the end of the call, though this side never half-closes.
    this.#stream.on('end', () => this.#finish(this.#status ?? { code: GrpcStatus.UNKNOWN, details: 'the server ended the call without a grpc-status' }));
    this.#stream.on('error', (e) => this.#finish({ code: GrpcStatus.UNAVAILABLE, details: connectionProblem(opts.target, causeOf(e)) }));
    this.#stream.on('close', () => this.#finish(this.#status ?? this.#resetStatus()));
    if (Number.isFinite(opts.keepaliveMs)) this.#armKeepalive();
  }

  /** Sends one request (buffered by HTTP/2 flow control when the server is slow to read). */
  write(request: Req): void {
    if (this.#done) return;
    this.#stream.write(frameMessage(this.#opts.encode(request)));
  }

  /** Ends the call from this side; `onStatus` is not called. */
  cancel(): void {
    if (this.#done) return;
    this.#done = true;
    this.#cleanup();
  }

  #onHeaders(headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
    this.#heard();
    const status = headers[':status'];
    if (status !== 200) {
      this.#fail(GrpcStatus.UNKNOWN, `HTTP status ${status} from ${this.#opts.target}${this.#opts.path} (not a gRPC server?)`);
      return;
    }
    // A trailers-only response: the status comes with the headers and the stream ends.
    if (headers['grpc-status'] !== undefined) this.#status = statusOf(headers);
    else if (!String(headers['content-type'] ?? '').startsWith('application/grpc')) {
      this.#fail(GrpcStatus.UNKNOWN, `content-type ${JSON.stringify(headers['content-type'] ?? '')} from ${this.#opts.target} is not gRPC`);
    }
  }

  #onData(chunk: Buffer): void {
    this.#heard();
    if (this.#done) return;
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

  #onTrailers(trailers: http2.IncomingHttpHeaders): void {
    if (trailers['grpc-status'] !== undefined) this.#status = statusOf(trailers);
  }

  /** Status of a stream that closed without trailers: reset by the server, or the connection went away. */
  #resetStatus(): StreamStatus {
    const code = this.#stream.rstCode;
    return { code: GrpcStatus.UNAVAILABLE, details: code === undefined || code === 0 ? 'the stream ended without a status' : `the stream was reset (HTTP/2 error ${code})` };
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
    this.#reader.clear();
    if (!this.#stream.closed) this.#stream.close(NGHTTP2_CANCEL);
    if (!this.#session.destroyed) this.#session.destroy();
  }

  #heard(): void {
    this.#lastHeard = performance.now();
  }

  #armKeepalive(): void {
    this.#keepalive = setTimeout(() => this.#checkAlive(), this.#opts.keepaliveMs);
    this.#keepalive.unref();
  }

  #checkAlive(): void {
    if (this.#done || this.#pinging) return;
    const quiet = performance.now() - this.#lastHeard;
    if (quiet < this.#opts.keepaliveMs) {
      this.#keepalive = setTimeout(() => this.#checkAlive(), this.#opts.keepaliveMs - quiet);
      this.#keepalive.unref();
      return;
    }
    this.#pinging = true;
    const timeout = setTimeout(() => this.#fail(GrpcStatus.UNAVAILABLE, `keepalive ping to ${this.#opts.target} not answered within ${this.#opts.keepaliveTimeoutMs} ms`), this.#opts.keepaliveTimeoutMs);
    timeout.unref();
    const sent = this.#session.ping((err) => {
      clearTimeout(timeout);
      this.#pinging = false;
      if (err !== null) return; // the session is going away: its own events end the call
      this.#heard();
      this.#armKeepalive();
    });
    if (!sent) {
      clearTimeout(timeout);
      this.#pinging = false;
    }
  }
}

/** The error behind a stream error (`The pending stream has been canceled (caused by: connect ECONNREFUSED …)`). */
function causeOf(e: Error): Error {
  return e.cause instanceof Error ? e.cause : e;
}

/** What went wrong with the connection, with a hint for the usual mistakes (wrong port, nothing running). */
function connectionProblem(target: string, e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  const hint = code === 'ECONNREFUSED' ? ' (nothing listens there)'
    : code === 'ERR_HTTP2_ERROR' ? ' (the server there does not speak gRPC over HTTP/2: is it the xDS port?)' : '';
  return `${target}: ${e.message}${hint}`;
}

function statusOf(h: http2.IncomingHttpHeaders): StreamStatus {
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
