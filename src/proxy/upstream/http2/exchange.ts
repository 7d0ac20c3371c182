/**
 * One request on weft's HTTP/2 upstream pool, from dispatch to its end: the undici dispatch controller
 * the router's handler holds (abort, pause, resume) and the listener of its stream. It waits in the
 * pool's queue until a session has room, then opens its stream there. Every path ends in exactly one
 * of `onResponseEnd` or `onResponseError` on the handler.
 *
 * The stream's listeners are shared functions reading the exchange from the stream, not closures made
 * per request: this is the proxy's hot path for gRPC.
 */
import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { PoolExchange } from '../pool-exchange.ts';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = constants;

/** What an exchange tells the session carrying it. */
export interface StreamOwner {
  readonly session: ClientHttp2Session;
  /** The exchange's stream closed: its slot is free. */
  streamClosed(ex: H2Exchange): void;
}

/** A stream the upstream reset, or that ended before its response did. */
export class StreamResetError extends Error {
  readonly code = 'ERR_HTTP2_STREAM_ERROR';
}

/** RFC 9113 §7 error codes by number. */
const ERROR_NAMES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED'];

function resetError(code: number): StreamResetError {
  const name = ERROR_NAMES[code] ?? `code ${code}`;
  return new StreamResetError(code === NGHTTP2_NO_ERROR ? 'upstream stream closed before the response ended' : `upstream reset the stream (${name})`);
}

const EXCHANGE = Symbol('weft.h2exchange');
type Tagged = ClientHttp2Stream & { [EXCHANGE]: H2Exchange | undefined };

export class H2Exchange extends PoolExchange {
  /** The request's header block, node:http2's raw list. */
  readonly headers: string[];
  #stream: ClientHttp2Stream | undefined;
  #owner: StreamOwner | undefined;
  #body: Readable | undefined;
  /** Removes the body's and the stream's listeners of `#streamBody`. */
  #unbindBody: (() => void) | undefined;
  #trailers: IncomingHttpHeaders | undefined;
  #responded = false;

  constructor(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, headers: string[]) {
    super(options, handler);
    this.headers = headers;
  }

  /** Opens the stream on `owner`'s session and sends the request. Returns false when the session refused it (the exchange can wait for another). */
  start(owner: StreamOwner): boolean {
    const body = this.options.body;
    const bodiless = body === null || body === undefined;
    let stream: ClientHttp2Stream;
    try {
      stream = owner.session.request(this.headers, { endStream: bodiless });
    } catch {
      return false; // the session is closing (GOAWAY, destroyed): not this request's fault
    }
    this.#owner = owner;
    this.#stream = stream;
    (stream as Tagged)[EXCHANGE] = this;
    stream.on('response', onResponse);
    stream.on('data', onData);
    stream.on('trailers', onTrailers);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    this.handler.onRequestStart?.(this, null);
    if (this.over) return true;
    if (this.paused) stream.pause();
    if (bodiless) this.handler.onRequestSent?.();
    else if (typeof body === 'string' || body instanceof Uint8Array) {
      stream.end(body);
      this.handler.onRequestSent?.();
    } else this.#streamBody(stream, body as Readable);
    return true;
  }

  #streamBody(stream: ClientHttp2Stream, body: Readable): void {
    this.#body = body;
    const onBodyData = (chunk: Buffer): void => {
      if (!stream.write(chunk)) body.pause();
    };
    const onDrain = (): void => {
      body.resume();
    };
    const onBodyEnd = (): void => {
      cleanup();
      stream.end();
      this.handler.onRequestSent?.();
    };
    const onBodyError = (err: Error): void => {
      cleanup();
      this.abort(err);
    };
    const cleanup = (): void => {
      body.off('data', onBodyData);
      body.off('end', onBodyEnd);
      body.off('error', onBodyError);
      stream.off('drain', onDrain);
      if (this.#body === body) this.#body = undefined;
      this.#unbindBody = undefined;
    };
    this.#unbindBody = cleanup;
    body.on('data', onBodyData);
    body.once('end', onBodyEnd);
    body.once('error', onBodyError);
    stream.on('drain', onDrain);
  }

  /** The handler gave up, or the response ended before the body: the stream is cancelled (RST_STREAM CANCEL). */
  protected cancel(): void {
    const s = this.#stream;
    if (s !== undefined && !s.destroyed && !s.closed) s.close(NGHTTP2_CANCEL);
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
    this.#unbindBody?.();
    this.#body = undefined;
    if (body !== undefined && !body.destroyed) body.destroy();
  }

  // Stream events (this: the stream).

  static onResponse(stream: ClientHttp2Stream, headers: IncomingHttpHeaders): void {
    const ex = (stream as Tagged)[EXCHANGE];
    if (ex === undefined || ex.over) return;
    ex.#responded = true;
    const status = Number(headers[':status']);
    delete headers[':status'];
    ex.handler.onResponseStart?.(ex, status, headers as Record<string, string | string[]>, '');
  }

  static onData(stream: ClientHttp2Stream, chunk: Buffer): void {
    const ex = (stream as Tagged)[EXCHANGE];
    if (ex !== undefined && !ex.over) ex.handler.onResponseData?.(ex, chunk);
  }

  static onTrailers(stream: ClientHttp2Stream, trailers: IncomingHttpHeaders): void {
    const ex = (stream as Tagged)[EXCHANGE];
    if (ex !== undefined) ex.#trailers = trailers;
  }

  static onEnd(stream: ClientHttp2Stream): void {
    const ex = (stream as Tagged)[EXCHANGE];
    if (ex === undefined || ex.over) return;
    // A reset also ends the readable side: only a response that arrived and was not reset is complete.
    const rst = stream.rstCode;
    if (!ex.#responded || (rst !== undefined && rst !== NGHTTP2_NO_ERROR)) {
      ex.fail(resetError(rst ?? NGHTTP2_NO_ERROR));
      return;
    }
    ex.over = true;
    // The response is complete; a request body the upstream did not wait for is not sent.
    if (ex.#body !== undefined) {
      ex.#dropBody();
      ex.cancel();
    }
    ex.handler.onResponseEnd?.(ex, (ex.#trailers ?? {}) as Record<string, string | string[]>);
  }

  static onError(stream: ClientHttp2Stream, err: Error): void {
    const ex = (stream as Tagged)[EXCHANGE];
    if (ex !== undefined && !ex.over) ex.fail(err);
  }

  static onClose(stream: ClientHttp2Stream): void {
    const ex = (stream as Tagged)[EXCHANGE];
    if (ex === undefined) return;
    // A closed stream lives on until a full GC (node:http2 keeps its native handle weakly, and V8's young
    // generation collection never frees such objects): unlinked from it, the exchange, the router's
    // handler and the request behind them die young instead of filling the old generation.
    (stream as Tagged)[EXCHANGE] = undefined;
    ex.#stream = undefined;
    ex.#owner?.streamClosed(ex);
    if (!ex.over) ex.fail(resetError(stream.rstCode ?? NGHTTP2_NO_ERROR));
  }
}

function onResponse(this: ClientHttp2Stream, headers: IncomingHttpHeaders): void {
  H2Exchange.onResponse(this, headers);
}
function onData(this: ClientHttp2Stream, chunk: Buffer): void {
  H2Exchange.onData(this, chunk);
}
function onTrailers(this: ClientHttp2Stream, trailers: IncomingHttpHeaders): void {
  H2Exchange.onTrailers(this, trailers);
}
function onEnd(this: ClientHttp2Stream): void {
  H2Exchange.onEnd(this);
}
function onError(this: ClientHttp2Stream, err: Error): void {
  H2Exchange.onError(this, err);
}
function onClose(this: ClientHttp2Stream): void {
  H2Exchange.onClose(this);
}
