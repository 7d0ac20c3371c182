/**
 * The downstream request body as the upstream request reads it: streamed with backpressure (the
 * downstream is paused while the upstream cannot take more), and, while retries are possible, retained
 * up to a bound so a retry can replay it (Envoy's retry buffering, bounded by the route's
 * `per_request_buffer_limit_bytes`). Past the bound the body is no longer replayable and retries stop,
 * as in Envoy. Each attempt gets its own reader, so undici destroying a failed attempt's body never
 * touches the downstream stream (which would kill the connection before the local reply).
 */
import { Readable } from 'node:stream';
import type { BodyStream } from './downstream.ts';

const noop = (): void => {};

export class RequestBody {
  readonly #source: BodyStream;
  #chunks: Buffer[] = [];
  #retain: boolean;
  readonly #limit: number;
  #bytes = 0;
  #ended = false;
  #reader: BodyReader | undefined;
  readonly #endWaiters: (() => void)[] = [];
  #activity: (() => void) | undefined;
  #discarded = false;

  /** `retainLimit` 0: stream only, no replay. */
  constructor(source: BodyStream, retainLimit: number) {
    this.#source = source;
    this.#retain = retainLimit > 0;
    this.#limit = retainLimit;
    source.on('data', (chunk: Buffer) => this.#onData(chunk));
    source.once('end', () => this.#onEnd());
    source.once('error', (err: Error) => this.#reader?.destroy(err));
    source.pause();
  }

  /** Bytes received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The request's trailers, once the body ended with them (HTTP/2 downstream). */
  get trailers(): readonly string[] | undefined {
    return this.#ended ? this.#source.trailers : undefined;
  }

  /** Whether a new reader would see the whole body. */
  get replayable(): boolean {
    return this.#retain;
  }

  /** Calls `cb` once the downstream body is complete (at once when it is). */
  onEnd(cb: () => void): void {
    if (this.#ended) cb();
    else this.#endWaiters.push(cb);
  }

  /** Calls `cb` on every chunk received (the stream idle timer). */
  onActivity(cb: () => void): void {
    this.#activity = cb;
  }

  /** The exchange is over: read and drop the rest of the body so the connection stays usable. */
  discard(): void {
    if (this.#discarded) return;
    this.#discarded = true;
    this.#retain = false;
    this.#chunks = [];
    this.#reader = undefined;
    this.#activity = undefined;
    if (!this.#ended) this.#source.resume();
  }

  /** Drops retained bytes once no retry can happen (the response was committed). */
  stopRetaining(): void {
    if (!this.#retain) return;
    this.#retain = false;
    this.#compact();
  }

  /** A reader from the start of the body (replay) — only valid while `replayable`, or for the first reader. */
  reader(): Readable {
    const r = new BodyReader(this);
    this.#reader = r;
    return r;
  }

  /** Called by a reader that wants data. */
  pump(r: BodyReader): void {
    if (r !== this.#reader) return;
    const chunks = this.#chunks;
    while (r.pos < chunks.length) {
      const chunk = chunks[r.pos++]!;
      if (!r.push(chunk)) {
        this.#source.pause();
        this.#compact();
        return;
      }
    }
    this.#compact();
    if (this.#ended) r.push(null);
    else this.#source.resume();
  }

  detach(r: BodyReader): void {
    if (this.#reader === r) {
      this.#reader = undefined;
      this.#source.pause();
    }
  }

  #compact(): void {
    const r = this.#reader;
    if (this.#retain || r === undefined || r.pos === 0) return;
    this.#chunks = r.pos >= this.#chunks.length ? [] : this.#chunks.slice(r.pos);
    r.pos = 0;
  }

  #onData(chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (this.#discarded) return;
    this.#activity?.();
    this.#chunks.push(chunk);
    if (this.#retain && this.#bytes > this.#limit) {
      this.#retain = false;
      this.#compact();
    }
    const r = this.#reader;
    if (r === undefined) this.#source.pause();
    else this.pump(r);
  }

  #onEnd(): void {
    this.#ended = true;
    const r = this.#reader;
    if (r !== undefined) this.pump(r);
    for (const cb of this.#endWaiters.splice(0)) cb();
  }
}

class BodyReader extends Readable {
  readonly #owner: RequestBody;
  pos = 0;

  constructor(owner: RequestBody) {
    super();
    this.#owner = owner;
    // A downstream that fails mid-body destroys this reader with the error, maybe before any upstream
    // exchange listens (still connecting, queued for a connection) or after it stopped listening: that
    // must not become an uncaught 'error'. The exchange learns of the failure from the downstream abort.
    this.on('error', noop);
  }

  /** The request's trailers, once this reader reached the end (an upstream HTTP/2 stream sends them). */
  get trailers(): readonly string[] | undefined {
    return this.#owner.trailers;
  }

  override _read(): void {
    this.#owner.pump(this);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#owner.detach(this);
    cb(err);
  }
}
