/**
 * One bidirectional-streaming gRPC call on a server-side HTTP/2 stream, as the gRPC over HTTP/2 spec
 * lays it out (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): requests arrive as
 * length-prefixed messages (1 byte compressed flag, 4 bytes big-endian length); responses go out the
 * same way after the response headers; the status travels in trailers (or, when nothing was sent, in a
 * trailers-only response).
 * Why not grpc-js's server: a push to a thousand proxies is a thousand small writes and a thousand ACKs,
 * and grpc-js's per-message path (interceptor chain, a copy into a framed buffer, a second copy on
 * serialize) was a third of the control plane's CPU per change and most of its garbage. Here a response
 * is serialized once, straight into a reused frame buffer (frame-pool.ts), and requests are decoded from
 * the bytes HTTP/2 delivered. It serves only what ADS needs: no compression of responses (gzip requests
 * are accepted), no metadata beyond the status.
 */

import http2 from 'node:http2';
import { gunzipSync } from 'node:zlib';
import type { FramePool, Slab } from './frame-pool.ts';
import type { HeldRequests, RequestGate } from './request-gate.ts';
import { MessageReader, MessageTooLarge, writePrefix, type FramedMessage } from '../../xds/grpc-frames.ts';
import { encodeGrpcMessage, GrpcStatus, type GrpcStatusCode } from '../../xds/grpc-status.ts';

export interface CallStatus {
  readonly code: GrpcStatusCode;
  readonly details: string;
}

/** What the call reports; all run synchronously from HTTP/2 events. */
export interface CallHandler<R> {
  /** A request arrived, decoded; `receivedAt` is when its bytes came (`performance.now()`; earlier than now when it was held). */
  message(request: R, receivedAt: number): void;
  /** The client half-closed (it will send nothing more). */
  halfClosed(): void;
  /** The call is over: ended by either side, reset, or failed (`error` says why, when it was not a clean end). */
  closed(error: Error | undefined): void;
  /** Writing may go on after `write` returned false. */
  drain(): void;
  /** HTTP/2 handed the bytes of a message written with `write` to the socket (`bytes`: its length); in write order, not after the call ended. */
  written(bytes: number): void;
}

const { HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE } = http2.constants;

/** A `grpc-timeout` header value (`<digits><unit>`) in milliseconds, or undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(value);
  if (m === null) return undefined;
  const unitMs = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }[m[2] as 'H' | 'M' | 'S' | 'm' | 'u' | 'n'];
  return Number(m[1]) * unitMs;
}

export interface GrpcCallOptions<R> {
  readonly decode: (message: Buffer) => R;
  /** The request's message type, for error messages (`DeltaDiscoveryRequest`). */
  readonly messageName: string;
  /** Requests larger than this end the call with RESOURCE_EXHAUSTED. */
  readonly maxRequestBytes: number;
  readonly pool: FramePool;
  /** While shut, requests wait undecoded until it hands them back (request-gate.ts). */
  readonly gate?: RequestGate;
}

/** A FIFO of (slab, length) pairs in a ring: a push/shift pair per response allocates nothing. */
class WriteQueue {
  #slabs: (Slab | undefined)[] = new Array<Slab | undefined>(4).fill(undefined);
  #lengths: number[] = new Array<number>(4).fill(0);
  #head = 0;
  #count = 0;

  get headSlab(): Slab | undefined {
    return this.#count === 0 ? undefined : this.#slabs[this.#head];
  }

  get headLength(): number {
    return this.#count === 0 ? 0 : this.#lengths[this.#head]!;
  }

  push(slab: Slab | undefined, length: number): void {
    if (this.#count === this.#slabs.length) this.#grow();
    const at = (this.#head + this.#count) % this.#slabs.length;
    this.#slabs[at] = slab;
    this.#lengths[at] = length;
    this.#count++;
  }

  shift(): void {
    if (this.#count === 0) return;
    this.#slabs[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#slabs.length;
    this.#count--;
  }

  #grow(): void {
    const n = this.#slabs.length;
    const slabs = new Array<Slab | undefined>(n * 2).fill(undefined);
    const lengths = new Array<number>(n * 2).fill(0);
    for (let i = 0; i < this.#count; i++) {
      slabs[i] = this.#slabs[(this.#head + i) % n];
      lengths[i] = this.#lengths[(this.#head + i) % n]!;
    }
    this.#slabs = slabs;
    this.#lengths = lengths;
    this.#head = 0;
  }
}

export class GrpcCall<R> implements HeldRequests {
  readonly peer: string;
  readonly #stream: http2.ServerHttp2Stream;
  readonly #options: GrpcCallOptions<R>;
  readonly #gzip: boolean;
  #handler: CallHandler<R> | undefined;
  #headersSent = false;
  #ended = false;
  #closed = false;
  #deadline: NodeJS.Timeout | undefined;
  readonly #reader: MessageReader;
  /**
   * Writes not yet completed, in order (HTTP/2 completes a stream's writes in order): one callback
   * serves every write, instead of a closure per response.
   */
  readonly #inFlight = new WriteQueue();
  readonly #afterWrite = (err: Error | null | undefined): void => {
    const q = this.#inFlight;
    const slab = q.headSlab;
    const length = q.headLength;
    q.shift();
    if (err !== undefined && err !== null) return;
    if (slab !== undefined) this.#options.pool.give(slab);
    this.#handler?.written(length);
  };
  /** Requests held while the gate is shut: flag, body and arrival time, three entries per request. */
  #held: (boolean | Buffer | number)[] | undefined;
  /** Reads one complete request (bound once, for the frame reader). */
  readonly #onMessage = (compressed: boolean, body: Buffer): boolean => {
    const now = performance.now();
    // A connecting proxy's first requests are held too: it serves no traffic until it is synced, while
    // the proxies of the fan-out serve with stale config until their push is out.
    if (this.#held !== undefined || this.#options.gate?.shut === true) {
      if (this.#held === undefined) {
        this.#held = [];
        this.#options.gate!.hold(this);
      }
      this.#held.push(compressed, body, now);
      return true;
    }
    this.#deliver(compressed, body, now);
    return !this.#closed;
  };

  constructor(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, options: GrpcCallOptions<R>) {
    this.#stream = stream;
    this.#options = options;
    this.#gzip = headers['grpc-encoding'] === 'gzip';
    this.#reader = new MessageReader(options.maxRequestBytes);
    const socket = stream.session?.socket;
    this.peer = socket === undefined ? 'unknown' : `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
    const timeoutMs = parseGrpcTimeout(headers['grpc-timeout'] as string | undefined);
    if (timeoutMs !== undefined) {
      this.#deadline = setTimeout(() => this.#reject(GrpcStatus.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded`), timeoutMs);
      this.#deadline.unref();
    }
  }

  /** Starts delivering events (requests already buffered by HTTP/2 come now). */
  start(handler: CallHandler<R>): void {
    this.#handler = handler;
    const stream = this.#stream;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('end', () => {
      this.release();
      if (!this.#closed) handler.halfClosed();
    });
    stream.on('drain', () => {
      if (!this.#closed) handler.drain();
    });
    stream.on('error', (e: Error) => this.#close(e));
    stream.on('close', () => this.#close(stream.rstCode === undefined || stream.rstCode === 0 ? undefined : new Error(`stream reset (HTTP/2 code ${stream.rstCode})`)));
  }

  /**
   * Frames `message` and writes it; the handler's `written` runs once HTTP/2 handed its bytes to the
   * socket (not if the call ends first). Returns false when the stream's buffer is full: wait for `drain`.
   */
  write(message: FramedMessage): boolean {
    if (this.#ended) return false;
    this.#sendHeaders();
    const size = 5 + message.length;
    const { buf, slab } = this.#options.pool.take(size);
    writePrefix(buf, message.length);
    message.writeTo(buf, 5);
    this.#inFlight.push(slab, message.length);
    return this.#stream.write(buf, this.#afterWrite);
  }

  /** Ends the call with `status` (OK by default). */
  end(status: CallStatus = { code: GrpcStatus.OK, details: '' }): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#deadline);
    const stream = this.#stream;
    if (stream.destroyed || stream.closed) return;
    const trailers: http2.OutgoingHttpHeaders = { 'grpc-status': String(status.code) };
    if (status.details !== '') trailers['grpc-message'] = encodeGrpcMessage(status.details);
    if (!this.#headersSent) {
      this.#headersSent = true;
      stream.respond({ [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', ...trailers }, { endStream: true });
    } else {
      stream.once('wantTrailers', () => stream.sendTrailers(trailers));
      stream.end();
    }
  }

  #sendHeaders(): void {
    if (this.#headersSent) return;
    this.#headersSent = true;
    this.#stream.respond({ [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc', 'grpc-accept-encoding': 'identity,gzip' }, { waitForTrailers: true });
  }

  /** Hands the held requests to the handler, in arrival order (the gate calls it; so does the client's half-close). */
  release(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    for (let i = 0; i < held.length && !this.#closed; i += 3) this.#deliver(held[i] as boolean, held[i + 1] as Buffer, held[i + 2] as number);
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = undefined;
    this.#ended = true;
    clearTimeout(this.#deadline);
    this.#reader.clear();
    this.#handler?.closed(error);
  }

  /** Ends the call for a request it cannot take, and reports why. */
  #reject(code: GrpcStatusCode, details: string): void {
    this.end({ code, details });
    this.#close(new Error(details));
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#reader.push(chunk, this.#onMessage);
    } catch (e) {
      if (!(e instanceof MessageTooLarge)) throw e;
      this.#reject(GrpcStatus.RESOURCE_EXHAUSTED, `${this.#options.messageName} of ${e.length} bytes exceeds the limit of ${e.limit}`);
    }
  }

  #deliver(compressed: boolean, body: Buffer, receivedAt: number): void {
    let request: R;
    try {
      if (compressed && !this.#gzip) throw new Error('compressed message without grpc-encoding: gzip');
      request = this.#options.decode(compressed ? gunzipSync(body, { maxOutputLength: this.#options.maxRequestBytes }) : body);
    } catch (e) {
      this.#reject(GrpcStatus.INVALID_ARGUMENT, `malformed ${this.#options.messageName}: ${(e as Error).message}`);
      return;
    }
    this.#handler?.message(request, receivedAt);
  }
}
