/**
 * One request on weft's HTTP/2 upstream pool, from dispatch to its end: the undici dispatch controller
 * the router's handler holds (abort, pause, resume) and the listener of its stream on a client
 * `H2Session`. It waits in the pool's queue until a session has room, then opens its stream there. Every
 * path ends in exactly one of `onResponseEnd` or `onResponseError` on the handler.
 *
 * A response head that is not a valid HTTP/2 response (RFC 9113 §8.3.2: no `:status`, connection-specific
 * fields…) or trailers that are not valid fail the request as a reset (PROTOCOL_ERROR) would.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ErrorCode, errorName } from '../../codec/http2/frames.ts';
import { MalformedError, responseHead, trailerFields } from '../../codec/http2/fields.ts';
import type { H2Session } from '../../codec/http2/session.ts';
import type { H2Stream, StreamListener } from '../../codec/http2/stream.ts';
import { PoolExchange } from '../pool-exchange.ts';
import { UPSTREAM_PROTOCOL_ERROR } from '../../core/error-codes.ts';

/** What an exchange tells the session carrying it. */
export interface StreamOwner {
  readonly session: H2Session;
  /** The exchange's stream closed: its slot is free. */
  streamClosed(ex: H2Exchange): void;
}

/** A stream the upstream reset, or that ended before its response did. */
export class StreamResetError extends Error {
  readonly code = 'ERR_HTTP2_STREAM_ERROR';
}

/** A response that breaks HTTP/2's message rules: the router's 502 UPE, as for an unreadable HTTP/1.1 response. */
export class MalformedResponseError extends Error {
  readonly code = UPSTREAM_PROTOCOL_ERROR;
}

function resetError(code: number, remote: boolean): StreamResetError {
  if (code === ErrorCode.NO_ERROR) return new StreamResetError('upstream stream closed before the response ended');
  return new StreamResetError(remote ? `upstream reset the stream (${errorName(code)})` : `upstream stream reset (${errorName(code)})`);
}

export class H2Exchange extends PoolExchange implements StreamListener {
  /** The request's header block, `[name, value, …]`. */
  readonly headers: string[];
  #stream: H2Stream | undefined;
  #owner: StreamOwner | undefined;
  #body: Readable | undefined;
  #trailers: Record<string, string | string[]> | undefined;
  #responded = false;

  constructor(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, headers: string[]) {
    super(options, handler);
    this.headers = headers;
  }

  /** Opens the stream on `owner`'s session and sends the request. Returns false when the session takes no new stream (the exchange can wait for another). */
  start(owner: StreamOwner): boolean {
    if (!owner.session.canOpen) return false;
    const body = this.options.body;
    const bodiless = body === null || body === undefined;
    this.#owner = owner;
    const stream = owner.session.request(this.headers, bodiless, this);
    this.#stream = stream;
    this.handler.onRequestStart?.(this, null);
    if (this.over) return true;
    if (this.paused) stream.pause();
    if (bodiless) this.handler.onRequestSent?.();
    else if (typeof body === 'string' || body instanceof Uint8Array) {
      stream.write(typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      stream.end();
      this.handler.onRequestSent?.();
    } else this.#streamBody(stream, body as Readable);
    return true;
  }

  #streamBody(stream: H2Stream, body: Readable): void {
    this.#body = body;
    body.on('data', (chunk: Buffer) => {
      if (this.#body === body && !stream.write(chunk)) body.pause();
    });
    body.once('end', () => {
      if (this.#body !== body) return;
      this.#body = undefined;
      // The downstream request's trailers, when it had any (request-body.ts's reader carries them).
      const trailers = (body as { readonly trailers?: readonly string[] | undefined }).trailers;
      stream.end(trailers !== undefined && trailers.length > 0 ? trailers : undefined);
      this.handler.onRequestSent?.();
    });
    body.once('error', (err: Error) => {
      if (this.#body !== body) return;
      this.#body = undefined;
      this.abort(err);
    });
  }

  /** The handler gave up, or the response ended before the body: the stream is cancelled (RST_STREAM CANCEL). */
  protected cancel(): void {
    const s = this.#stream;
    if (s !== undefined && !s.closed) s.reset(ErrorCode.CANCEL);
  }

  protected pausedChanged(): void {
    if (this.paused) this.#stream?.pause();
    else this.#stream?.resume();
  }

  /** A body still being sent is dropped. */
  protected override failed(): void {
    this.#dropBody();
  }

  #dropBody(): void {
    const body = this.#body;
    this.#body = undefined;
    if (body !== undefined && !body.destroyed) body.destroy();
  }

  // ---- StreamListener ----

  streamHeaders(fields: string[], endStream: boolean): void {
    if (this.over) return;
    try {
      if (!this.#responded) {
        const head = responseHead(fields);
        if (head.status < 200) return; // 1xx heads are not forwarded (101 does not exist in HTTP/2)
        this.#responded = true;
        // A response to HEAD, a 204 or a 304 may declare a length its (absent) content does not have.
        const bodied = this.options.method !== 'HEAD' && head.status !== 204 && head.status !== 304;
        if (bodied && head.contentLength > 0 && endStream) throw new MalformedError(`content-length ${head.contentLength} on a response with no body`);
        if (bodied && head.contentLength >= 0 && this.#stream !== undefined) this.#stream.expectedLength = head.contentLength;
        this.handler.onResponseStart?.(this, head.status, head.headers as Record<string, string | string[]>, '');
      } else {
        this.#trailers = trailerFields(fields) as Record<string, string | string[]>;
      }
    } catch (err) {
      if (!(err instanceof MalformedError)) throw err;
      this.#malformed(`malformed upstream response: ${err.message}`);
      return;
    }
    if (endStream) this.#complete();
  }

  streamData(chunk: Buffer, endStream: boolean): void {
    if (this.over) return;
    if (chunk.length > 0) this.handler.onResponseData?.(this, chunk);
    if (endStream) this.#complete();
  }

  streamDrain(): void {
    this.#body?.resume();
  }

  /** The upstream broke HTTP/2's message rules: the handler hears why, then the stream is reset. */
  #malformed(message: string): void {
    const stream = this.#stream;
    this.fail(new MalformedResponseError(message));
    stream?.reset(ErrorCode.PROTOCOL_ERROR);
  }

  streamClose(code: number, remote: boolean): void {
    this.#stream = undefined;
    this.#owner?.streamClosed(this);
    this.#owner = undefined;
    if (!this.over) this.fail(this.aborted && this.reason !== null ? this.reason : resetError(code, remote));
  }

  #complete(): void {
    if (this.over) return;
    if (!this.#responded) {
      this.#malformed('upstream ended the stream without a response');
      return;
    }
    this.over = true;
    // The response is complete; a request body the upstream did not wait for is not sent.
    if (this.#body !== undefined) {
      this.#dropBody();
      this.cancel();
    }
    this.handler.onResponseEnd?.(this, this.#trailers ?? {});
  }
}
