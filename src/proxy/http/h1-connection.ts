/**
 * One downstream HTTP/1.x connection on weft's own codec: reads requests with `RequestParser`, one at a
 * time, and runs each as an `H1Downstream` exchange. Owns what is per connection:
 * - **Order**: the next request is parsed only after the previous response is done; pipelined bytes
 *   wait in a buffer (bounded: past it the socket stops being read), and the socket is still read while
 *   a response is pending, so a client that goes away is noticed (DC).
 * - **Backpressure**: a request body whose reader is paused stops the parser and the socket.
 * - **Persistence**: keep-alive unless the client, the response, draining, or an early response (one
 *   sent before the request was complete) says close. Closing is graceful: FIN after the response,
 *   then bytes still arriving are read and dropped until the client closes (bounded by a timer), so
 *   unread request bytes never turn the close into a reset that would eat the response.
 * - **Timeouts**, checked by the connection manager's sweep: request headers (408), whole request
 *   (408 or reset), and idle between requests (close).
 * - **Codec errors**: a request that cannot be read gets 400/431/501/505 with `x-weft-error`, then close.
 */
import type { Socket } from 'node:net';
import { http } from '../core/builtins.ts';
import { HttpParseError, type ParserLimits } from '../codec/http1/message-parser.ts';
import { RequestParser, type RequestOptions, type RequestSink } from '../codec/http1/request-parser.ts';
import { H1Downstream, type H1Link } from './downstream-h1.ts';
import type { HeaderMap } from './headers.ts';
import { ERROR_HEADER, headerSafe } from './local-reply.ts';

export interface H1Settings {
  readonly limits: ParserLimits;
  readonly request: RequestOptions;
  readonly requestHeadersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/** What the connection manager does for a connection. */
export interface H1Hooks {
  /** Counts a request; true when it is the last one the connection may carry. */
  countRequest(): boolean;
  /** Runs an exchange (its head is read). */
  exchange(ex: H1Downstream): void;
  /** A request that could not be read, or whose headers came too slowly: for stats and the access log. */
  codecError(status: number, cause: string): void;
  idleTimeout(): void;
}

/** Pipelined bytes held while a response is pending, before the socket stops being read. */
const PIPELINE_LIMIT = 64 * 1024;
/**
 * How long a closing connection keeps reading (and dropping) what the client still sends, and how long
 * the rest of a request answered early may take to arrive before the connection closes.
 */
const LINGER_MS = 1000;
/** How much of a request answered early is read and dropped to keep the connection. */
const DISCARD_LIMIT = 1024 * 1024;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

export class H1Connection implements H1Link, RequestSink {
  readonly socket: Socket;
  closeAfterResponse: boolean;
  readonly #settings: H1Settings;
  readonly #hooks: H1Hooks;
  readonly #parser: RequestParser;
  /** Bytes read and not parsed yet, from `#pos`. */
  #buf: Buffer | undefined;
  #pos = 0;
  #exchange: H1Downstream | undefined;
  /** An exchange whose head was just read, started once the parser has returned. */
  #fresh: H1Downstream | undefined;
  #pumping = false;
  /** The codec is done with the socket (closing, closed, or handed over to a tunnel). */
  #done = false;
  /** When the first bytes of the head being read arrived; 0 while none have. */
  #headSince = 0;
  #idleSince: number;
  readonly #onData = (chunk: Buffer): void => this.#data(chunk);
  readonly #onEnd = (): void => this.#clientEnded();

  constructor(socket: Socket, bytes: Buffer, settings: H1Settings, hooks: H1Hooks, closeAfterResponse: boolean) {
    this.socket = socket;
    this.#settings = settings;
    this.#hooks = hooks;
    this.closeAfterResponse = closeAfterResponse;
    this.#parser = new RequestParser(this, settings.limits, settings.request);
    this.#idleSince = performance.now();
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.once('close', () => this.#closed());
    socket.resume();
    if (bytes.length > 0) this.#data(bytes);
  }

  // ---- RequestSink: called by the parser ----

  onRequest(p: RequestParser): boolean {
    const ex = new H1Downstream(this, p, this.#hooks.countRequest(), this.#headSince || performance.now());
    this.#headSince = 0;
    this.#exchange = ex;
    this.#fresh = ex;
    if (p.expectContinue && p.hasBody) this.socket.write(CONTINUE, 'latin1');
    return false; // the exchange starts outside the parser
  }

  onBody(chunk: Buffer): boolean {
    const ex = this.#exchange!;
    const go = ex.bodyBytes(chunk);
    if (ex.closed && ex.discardedBytes > DISCARD_LIMIT) {
      this.#close(); // answered early, and the rest of the request is too long to wait for
      return false;
    }
    return go;
  }

  onEnd(_trailers: HeaderMap): void {
    const ex = this.#exchange!;
    ex.requestEnded();
    if (ex.closed) this.exchangeDone(ex); // the response was complete first: the connection is free now
  }

  // ---- H1Link: called by exchanges ----

  exchangeDone(ex: H1Downstream): void {
    if (ex !== this.#exchange) return;
    if (!ex.reusable || this.closeAfterResponse || this.#parser.upgraded) {
      this.#exchange = undefined;
      this.#close();
      return;
    }
    this.#idleSince = performance.now();
    if (!ex.requestDone) {
      // Answered before the request was read (a local reply to a POST, say): the rest of the body is
      // read and dropped, so the connection can carry the next request (bounded in bytes and time).
      ex.discardBody();
      if (this.socket.isPaused()) this.socket.resume();
      if (this.#buf !== undefined && !this.#pumping) process.nextTick(pumpLater, this);
      return;
    }
    this.#exchange = undefined;
    if (this.#buf !== undefined) {
      this.#headSince = this.#idleSince;
      if (!this.#pumping) process.nextTick(pumpLater, this);
    }
    if (this.socket.isPaused()) this.socket.resume();
  }

  resumeBody(): void {
    if (this.#done) return;
    this.socket.resume();
    this.pump();
  }

  handOver(): Buffer | undefined {
    this.#done = true;
    this.socket.removeListener('data', this.#onData);
    this.socket.removeListener('end', this.#onEnd);
    const rest = this.#buf?.subarray(this.#pos);
    this.#buf = undefined;
    return rest;
  }

  // ---- connection manager ----

  /** Close after the response in flight, or now when none is. */
  drain(): void {
    this.closeAfterResponse = true;
    if (this.#exchange === undefined && !this.#done) this.#close();
  }

  /** The connection manager's sweep: fires the timeouts that are due. */
  checkTimers(now: number): void {
    if (this.#done) return;
    const s = this.#settings;
    const ex = this.#exchange;
    if (ex === undefined) {
      const limit = s.requestHeadersTimeoutMs || s.requestTimeoutMs;
      if (this.#headSince > 0 && limit > 0) {
        if (now - this.#headSince >= limit) this.#reject(408, 'request headers timeout');
      } else if (s.idleTimeoutMs > 0 && now - Math.max(this.#idleSince, this.#headSince) >= s.idleTimeoutMs) {
        // Without a headers timeout, a head that never completes is idleness too (no slow-loris hold).
        this.#hooks.idleTimeout();
        this.#close();
      }
    } else if (ex.closed) {
      if (now - this.#idleSince >= LINGER_MS) this.#close(); // the rest of a request answered early is late
    } else if (s.requestTimeoutMs > 0 && !ex.requestDone && now - ex.startedAt >= s.requestTimeoutMs) {
      ex.requestTimedOut();
    }
  }

  // ---- reading ----

  #data(chunk: Buffer): void {
    if (this.#done) return; // closing: what the client still sends is dropped
    if (this.#buf === undefined) {
      this.#buf = chunk;
      this.#pos = 0;
    } else {
      this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
      this.#pos = 0;
    }
    if (this.#exchange === undefined && this.#headSince === 0) this.#headSince = performance.now();
    this.pump();
  }

  /** Parses what is buffered as far as the state allows (re-entrant calls fold into the running one). */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const parser = this.#parser;
      for (;;) {
        const buf = this.#buf;
        if (buf === undefined || this.#done) return;
        if (parser.upgraded) {
          // Bytes for a tunnel not accepted yet: they wait (bounded) for `handOver`.
          if (buf.length - this.#pos > PIPELINE_LIMIT) this.socket.pause();
          return;
        }
        const ex = this.#exchange;
        if (!parser.busy) {
          if (ex !== undefined) {
            // Pipelined: the next request waits for this response.
            if (buf.length - this.#pos > PIPELINE_LIMIT) this.socket.pause();
            return;
          }
          parser.next();
        } else if (ex !== undefined && ex.bodyPaused) {
          this.socket.pause();
          return;
        }
        try {
          const pos = parser.execute(buf, this.#pos);
          if (pos >= buf.length) this.#buf = undefined;
          else this.#pos = pos;
          const fresh = this.#fresh;
          if (fresh !== undefined) {
            this.#fresh = undefined;
            this.#hooks.exchange(fresh);
          }
        } catch (err) {
          this.#codecError(err);
          return;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #codecError(err: unknown): void {
    if (err instanceof HttpParseError) this.#reject(err.status, `${err.status === 426 ? 'upgrade required' : 'malformed HTTP request'}: ${err.message}`);
    else this.socket.destroy(); // a bug below the codec costs this connection, never the process
  }

  /** Answers a request the codec gives up on (when no response has started), then closes. */
  #reject(status: number, cause: string): void {
    const ex = this.#exchange;
    const safe = headerSafe(cause);
    this.#hooks.codecError(status, safe);
    if (ex !== undefined) {
      const started = ex.headersSent;
      ex.abort(new Error(cause));
      if (started) {
        this.socket.destroy();
        return;
      }
    }
    const body = `${safe}\n`;
    this.socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${ERROR_HEADER}: ${safe}\r\n\r\n${body}`, 'latin1');
    this.#close();
  }

  // ---- closing ----

  /** FIN after what was written; then read and drop until the client closes, for at most LINGER_MS. */
  #close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#buf = undefined;
    const socket = this.socket;
    socket.end();
    if (socket.isPaused()) socket.resume();
    setTimeout(destroySocket, LINGER_MS, socket).unref();
  }

  #clientEnded(): void {
    if (this.#done) {
      this.socket.destroy();
      return;
    }
    // A client that half-closes gets no more answers (as Envoy and node:http): the exchange in flight ends as DC.
    this.#exchange?.abort(new Error('the client closed the connection'));
    this.#close();
  }

  #closed(): void {
    this.#done = true;
    this.#buf = undefined;
    const ex = this.#exchange;
    this.#exchange = undefined;
    ex?.abort(new Error('the connection closed'));
  }
}

function pumpLater(conn: H1Connection): void {
  conn.pump();
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}
