/**
 * HTTP/2 downstream exchanges on weft's own HTTP/2 codec (`codec/http2`): one `H2Stream` of a server
 * `H2Session` per request. The request body is the stream's DATA, held (unacknowledged, so the client's
 * window closes) while the reader is paused; the response goes out as HEADERS, DATA and trailers, with
 * END_STREAM on the head when no body follows (trailers-only gRPC replies). Plain CONNECT and extended
 * CONNECT (RFC 8441, `:protocol`) tunnel over the stream itself, through a Duplex made only for them.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Duplex } from 'node:stream';
import { ErrorCode } from '../codec/http2/frames.ts';
import { isConnectionSpecific, MalformedError, trailerFields, type RequestHead } from '../codec/http2/fields.ts';
import type { H2Stream, StreamListener } from '../codec/http2/stream.ts';
import { BodyListeners, type Downstream, type DownstreamListener } from './downstream.ts';
import type { HeaderMap } from './headers.ts';
import { httpDate } from './http-date.ts';
import type { HttpProtocol } from './stream-info.ts';

export class H2Downstream implements Downstream, StreamListener {
  readonly protocol: HttpProtocol = 'HTTP/2';
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly absoluteForm = false;
  readonly headers: HeaderMap;
  readonly headerCount: number;
  readonly upgrade: string | undefined;
  readonly connect: boolean;
  readonly hasBody: boolean;
  readonly body: H2RequestBody;
  readonly #stream: H2Stream;
  #headersSent = false;
  #aborted = false;
  #listener: DownstreamListener | undefined;
  #drain: (() => void) | undefined;
  #tunnel: StreamDuplex | undefined;
  #timedOut = false;

  constructor(stream: H2Stream, head: RequestHead, endStream: boolean) {
    this.#stream = stream;
    this.headers = head.headers;
    this.connect = head.method === 'CONNECT' && head.protocol === undefined;
    this.upgrade = head.protocol?.toLowerCase();
    // Extended CONNECT is routed as the HTTP/1.1 upgrade it stands for (Envoy's H2→H1 upgrade transform).
    this.method = this.upgrade !== undefined ? 'GET' : head.method;
    if (this.upgrade !== undefined) this.headers['upgrade'] = this.upgrade;
    const host = this.headers['host'];
    this.authority = head.authority ?? (typeof host === 'string' ? host : '');
    this.path = head.path;
    this.headerCount = head.fieldCount;
    this.hasBody = !endStream && !this.connect && this.upgrade === undefined;
    this.body = new H2RequestBody(stream, endStream);
    stream.listener = this;
    // A response complete before its request asks the client to stop sending; a tunnel stays half-open.
    stream.stopPeerOnEnd = !this.connect && this.upgrade === undefined;
  }

  // ---- StreamListener: what the codec tells this exchange ----

  streamHeaders(trailers: string[], endStream: boolean): void {
    // Request trailers go with the body's end to an HTTP/2 upstream; an HTTP/1.1 one drops them, as
    // Envoy does without enable_trailers. Malformed ones (a pseudo-header) make the request malformed.
    if (trailers.length > 0 && this.#tunnel === undefined) {
      try {
        trailerFields(trailers);
      } catch (err) {
        if (!(err instanceof MalformedError)) throw err;
        this.#stream.reset(ErrorCode.PROTOCOL_ERROR);
        return;
      }
      this.body.trailers = trailers;
    }
    if (endStream) this.streamData(EMPTY, true);
  }

  streamData(chunk: Buffer, endStream: boolean): void {
    const tunnel = this.#tunnel;
    if (tunnel !== undefined) {
      if (chunk.length > 0 && !tunnel.push(chunk)) this.#stream.pause();
      if (endStream) tunnel.push(null);
      return;
    }
    this.body.deliver(chunk, endStream);
  }

  streamDrain(): void {
    const cb = this.#drain;
    this.#drain = undefined;
    cb?.();
  }

  streamClose(code: number, _remote: boolean): void {
    // Called once, when the stream is already closed.
    if (code !== ErrorCode.NO_ERROR) {
      this.#aborted = true;
      this.body.fail(new Error(`stream reset (${code})`));
      this.#listener?.downstreamAborted();
    }
    this.#tunnel?.destroy();
    this.#listener?.downstreamClosed();
    this.#listener = undefined;
    this.#drain = undefined;
  }

  /** The whole request arrived (the client ended its side of the stream). */
  get requestDone(): boolean {
    return this.#stream.remoteEnded;
  }

  /** The whole request did not arrive within the HCM's request_timeout (once). */
  requestTimedOut(): void {
    if (this.#timedOut || this.#stream.closed) return;
    this.#timedOut = true;
    this.#listener?.requestTimedOut();
  }

  // ---- Downstream: what the exchange does ----

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get closed(): boolean {
    return this.#stream.closed;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders, endStream: boolean): void {
    if (this.#stream.closed || this.#headersSent) return;
    this.#headersSent = true;
    const fields = [':status', String(status)];
    if (!appendFields(fields, headers)) fields.push('date', httpDate());
    this.#stream.sendHeaders(fields, endStream);
  }

  expectTrailers(): void {
    // HTTP/2 can always end with trailers.
  }

  write(chunk: Buffer): boolean {
    if (this.#stream.closed) return true;
    return this.#stream.write(chunk);
  }

  end(trailers?: OutgoingHttpHeaders): void {
    if (this.#stream.closed) return;
    if (trailers === undefined) {
      this.#stream.end();
      return;
    }
    const fields: string[] = [];
    appendFields(fields, trailers);
    this.#stream.end(fields);
  }

  onDrain(cb: () => void): void {
    this.#drain = cb;
  }

  attach(listener: DownstreamListener): void {
    this.#listener = listener;
    if (this.#aborted) listener.downstreamAborted();
    if (this.#stream.closed) listener.downstreamClosed();
  }

  retractHead(): boolean {
    return false; // HEADERS went to the session's output at writeHead
  }

  reset(): void {
    this.#stream.reset(ErrorCode.INTERNAL_ERROR);
  }

  tunnel(status: number, headers: OutgoingHttpHeaders): Duplex | undefined {
    if (this.#stream.closed || this.#headersSent) return undefined;
    // An HTTP/2 tunnel is accepted with 200 whatever the upstream said (101 does not exist in HTTP/2).
    this.writeHead(status === 101 ? 200 : status, headers, false);
    if (this.#stream.closed) return undefined;
    const tunnel = new StreamDuplex(this.#stream, this);
    this.#tunnel = tunnel;
    this.#stream.resume();
    return tunnel;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Appends `headers` as `name, value` pairs (names lowercased, arrays as repeated fields, pseudo-headers
 * and connection-specific fields left out); returns whether a `date` field was among them.
 */
function appendFields(fields: string[], headers: OutgoingHttpHeaders): boolean {
  let date = false;
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined) continue;
    const name = lowercase(key);
    if (name.charCodeAt(0) === 0x3a || isConnectionSpecific(name)) continue;
    if (name === 'date') date = true;
    if (typeof value === 'string') fields.push(name, value);
    else if (typeof value === 'number') fields.push(name, String(value));
    else for (const v of value) fields.push(name, v);
  }
  return date;
}

/** `name` in lowercase, without a copy when it already is (it nearly always is). */
function lowercase(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.toLowerCase();
  }
  return name;
}

/**
 * The request body in the shape `RequestBody` reads. It starts paused: the stream holds DATA (and does
 * not acknowledge it) until the reader resumes.
 */
class H2RequestBody extends BodyListeners {
  trailers: readonly string[] | undefined;
  readonly #stream: H2Stream;
  #ended = false;
  /** The request ended with its head: the end is told on the first `resume`. */
  #endPending: boolean;

  constructor(stream: H2Stream, endedWithHead: boolean) {
    super();
    this.#stream = stream;
    this.#endPending = endedWithHead;
    stream.pause();
  }

  pause(): this {
    this.#stream.pause();
    return this;
  }

  resume(): this {
    if (this.#endPending) {
      this.#endPending = false;
      this.deliver(EMPTY, true);
      return this;
    }
    this.#stream.resume();
    return this;
  }

  deliver(chunk: Buffer, end: boolean): void {
    if (chunk.length > 0) this.dataListener?.(chunk);
    if (end && !this.#ended) {
      this.#ended = true;
      this.endListener?.();
    }
  }

  fail(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.errorListener?.(err);
  }
}

/** A CONNECT or upgrade tunnel over one stream, as the Duplex the tunnel code splices. */
class StreamDuplex extends Duplex {
  readonly #stream: H2Stream;
  readonly #exchange: H2Downstream;

  constructor(stream: H2Stream, exchange: H2Downstream) {
    super({ allowHalfOpen: true });
    this.#stream = stream;
    this.#exchange = exchange;
  }

  override _read(): void {
    this.#stream.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#stream.closed || this.#stream.write(chunk)) cb();
    else this.#exchange.onDrain(() => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#stream.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.#stream.closed) this.#stream.reset(ErrorCode.CANCEL);
    cb(err);
  }
}
