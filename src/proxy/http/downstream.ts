/**
 * One downstream request/response exchange, the same shape for every codec (HTTP/1.x from weft's own
 * codec, HTTP/2 from weft's own HTTP/2 codec), so the connection manager and the router never branch on
 * the protocol. Implementations: `downstream-h1.ts`, `downstream-h2.ts`. Every method is safe to call in
 * any state: writes after a reset are dropped, and codec errors are swallowed (the stream is reset
 * instead), so nothing here throws into the event loop.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HeaderMap } from './headers.ts';
import type { HttpProtocol } from './stream-info.ts';

/**
 * A request body as `RequestBody` reads it: the part of a Readable it uses (both codecs have their own).
 */
export interface BodyStream {
  /** The request's trailers (a flat name, value list), once the body ended with them (HTTP/2). */
  readonly trailers?: readonly string[] | undefined;
  on(event: 'data', cb: (chunk: Buffer) => void): unknown;
  once(event: 'end', cb: () => void): unknown;
  once(event: 'error', cb: (err: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** The one listener of each kind `RequestBody` sets on a body, kept for the codec's body to call. */
export abstract class BodyListeners implements BodyStream {
  protected dataListener: ((chunk: Buffer) => void) | undefined;
  protected endListener: (() => void) | undefined;
  protected errorListener: ((err: Error) => void) | undefined;

  on(_event: 'data', cb: (chunk: Buffer) => void): this {
    this.dataListener = cb;
    return this;
  }

  once(event: 'end' | 'error', cb: (() => void) | ((err: Error) => void)): this {
    if (event === 'end') this.endListener = cb as () => void;
    else this.errorListener = cb as (err: Error) => void;
    return this;
  }

  abstract pause(): this;
  abstract resume(): this;
}

/** What the stream hears from its codec (one listener per exchange, set by `attach`). */
export interface DownstreamListener {
  /** The exchange ended before the response completed (client reset or disconnect); before `downstreamClosed`. */
  downstreamAborted(): void;
  /** The exchange is over, for any reason. */
  downstreamClosed(): void;
  /** The whole request did not arrive within the HCM's `request_timeout`. */
  requestTimedOut(): void;
}

export interface Downstream {
  readonly protocol: HttpProtocol;
  readonly method: string;
  /** Host / `:authority`, or the authority of an absolute-form or CONNECT target. */
  readonly authority: string;
  /** Origin-form path with query; empty for CONNECT. */
  readonly path: string;
  /** Whether the request came in absolute-form (`GET http://host/path`, a forward-proxy request). */
  readonly absoluteForm: boolean;
  readonly headers: HeaderMap;
  /** Number of header fields as received (max_headers_count). */
  readonly headerCount: number;
  /** Lowercase upgrade token: HTTP/1.1 `Upgrade` (with `Connection: upgrade`) or HTTP/2 extended CONNECT `:protocol`. */
  readonly upgrade: string | undefined;
  /** A plain CONNECT: tunnel bytes to `authority`. */
  readonly connect: boolean;
  /** Whether a request body follows the headers. */
  readonly hasBody: boolean;
  /** The request body (not for upgrades and CONNECT, which use `tunnel`). Starts paused. */
  readonly body: BodyStream;
  readonly headersSent: boolean;
  /** Whether the exchange ended: response complete, reset, or the client went away. */
  readonly closed: boolean;

  /** Sends the response head; `endStream` when no body follows (a trailers-only gRPC reply is one). */
  writeHead(status: number, headers: OutgoingHttpHeaders, endStream: boolean): void;
  /** Whether trailers can be sent after the body (HTTP/2 always; HTTP/1.1 only with chunked framing). */
  expectTrailers(): void;
  /** Writes body bytes; false means wait for `onDrain`. */
  write(chunk: Buffer): boolean;
  /** Ends the response, with trailers when the codec can carry them. */
  end(trailers?: OutgoingHttpHeaders): void;
  onDrain(cb: () => void): void;
  /**
   * Sets the listener, once, before anything is written: each of its callbacks is called at most once
   * (at once, if the exchange already aborted or closed). An object rather than two closures, so a
   * request allocates nothing for it.
   */
  attach(listener: DownstreamListener): void;
  /**
   * Takes back a response head that has not reached the client (HTTP/1 holds it until the first body
   * bytes or the end of the tick), so that a failure right behind it can still be answered with a local
   * reply instead of a reset. True when it did: `headersSent` is false again. HTTP/2: always false.
   */
  retractHead(): boolean;
  /** Resets the stream (HTTP/2 RST_STREAM, HTTP/1 connection close) after a failure mid-response. */
  reset(): void;
  /**
   * Accepts an upgrade or CONNECT: sends `status` (101 / 200) with `headers` and returns the byte stream
   * to the client (the HTTP/1 socket with any early bytes replayed, or the HTTP/2 stream).
   */
  tunnel(status: number, headers: OutgoingHttpHeaders): Duplex | undefined;
}
