/**
 * One keep-alive HTTP/1.1 connection to an upstream host, running one exchange at a time (no
 * pipelining, as Envoy's HTTP/1.1 pool): writes the request head and body (a stream is sent with
 * backpressure, in chunks unless its length was declared), feeds what the socket reads to the response
 * parser, honours the handler's pause and resume, and hands the socket over on a 101. It returns to
 * its pool when both the request and the response are complete and the upstream allows reuse; any
 * doubt about the connection's state (an abandoned exchange, a response cut short, bytes no request
 * asked for, a body left unsent) closes it instead.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Exchange, ExchangeHost } from './exchange.ts';
import { InvalidRequestError } from './request-head.ts';
import { writeChunk } from '../../codec/http1/chunk.ts';
import { ResponseParser, type ParserLimits } from '../../codec/http1/response-parser.ts';
import type { SocketReader } from '../../core/socket-reader.ts';

/** The pool's side of a connection. */
export interface ConnectionOwner {
  /** The connection finished an exchange (or one aborted before writing) and may take another. */
  released(c: H1Connection): void;
  /** The connection is closing: it takes no more exchanges (its socket's 'close' follows). */
  closing(c: H1Connection): void;
  /** The connection's socket closed (or was handed over by an upgrade). */
  gone(c: H1Connection): void;
}

/** How the upstream broke an exchange (the code names it in causes: `connection_termination`, `ECONNRESET`…). */
export class UpstreamResetError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

function terminated(): UpstreamResetError {
  return new UpstreamResetError('connection_termination', 'upstream closed the connection before the response was complete');
}

const LAST_CHUNK = '0\r\n\r\n';

export class H1Connection implements ExchangeHost {
  readonly socket: Socket;
  readonly #owner: ConnectionOwner;
  readonly #parser: ResponseParser;
  #current: Exchange | undefined;
  /** The request (head and body) is on the wire. */
  #sent = false;
  /** Bytes read while the handler had paused the body: resumed from `#heldAt`. */
  #held: Buffer | undefined;
  #heldAt = 0;
  #body: Readable | undefined;
  #bodyBytes = 0;
  #reusable = true;
  #closed = false;
  /** The current exchange has not written a byte yet. */
  #pristine = false;
  /** Exchanges this connection has run (max_requests_per_connection). */
  exchanges = 0;
  readonly #configuredIdleMs: number;
  #idleMs = 0;
  #hintS = -1;
  readonly #reader: SocketReader | undefined;

  /**
   * `idleTimeoutMs` > 0: closed after that long without an exchange (`common_http_protocol_options.idle_timeout`).
   * `reader`: the socket was opened with it (`onread`), and reads arrive through it instead of 'data'.
   */
  constructor(socket: Socket, owner: ConnectionOwner, idleTimeoutMs: number, limits?: ParserLimits, reader?: SocketReader) {
    this.socket = socket;
    this.#owner = owner;
    this.#parser = new ResponseParser(limits);
    this.#configuredIdleMs = idleTimeoutMs;
    this.#reader = reader;
    socket.on('timeout', this.#listeners.timeout);
    this.#setIdle(idleTimeoutMs);
    if (reader !== undefined) reader.target = this.#listeners.data;
    else socket.on('data', this.#listeners.data);
    socket.on('end', this.#listeners.end);
    socket.on('error', this.#listeners.error);
    socket.on('close', this.#listeners.close);
  }

  /** Ours, so a hand-over removes exactly these (others, like the pool's connection counters, stay). */
  readonly #listeners = {
    data: (chunk: Buffer): void => this.#onData(chunk),
    end: (): void => this.#onEnd(),
    error: (err: Error): void => this.#onSocketError(err),
    close: (): void => this.#onClose(),
    timeout: (): void => {
      if (this.#current === undefined) this.#close();
    },
  };

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `ex` (the connection must be idle). */
  run(ex: Exchange): void {
    this.#current = ex;
    this.#sent = false;
    this.exchanges++;
    this.#parser.expect(ex, ex.options.method === 'HEAD', ex.upgrade);
    this.#pristine = true;
    ex.start(this);
    if (this.#current !== ex) {
      // Aborted from onRequestStart (the router abandons a try that waited in the queue): nothing was
      // written, so the connection is as good as before.
      this.exchanges--;
      this.#owner.released(this);
      return;
    }
    this.#pristine = false;
    const socket = this.socket;
    const body = ex.options.body;
    if (body === null || body === undefined) {
      socket.write(ex.head.text, 'latin1');
      this.#requestSent(ex);
    } else if (typeof body === 'string' || body instanceof Uint8Array) {
      socket.cork();
      socket.write(ex.head.text, 'latin1');
      socket.write(body);
      socket.uncork();
      this.#requestSent(ex);
    } else {
      socket.write(ex.head.text, 'latin1');
      this.#streamBody(ex, body as Readable);
    }
  }

  #streamBody(ex: Exchange, body: Readable): void {
    this.#body = body;
    this.#bodyBytes = 0;
    const chunked = ex.head.chunked;
    const socket = this.socket;
    const onData = (chunk: Buffer): void => {
      if (this.#current !== ex) return;
      this.#bodyBytes += chunk.length;
      let ok: boolean;
      if (chunked) {
        if (chunk.length === 0) return;
        ok = writeChunk(socket, chunk);
      } else {
        ok = socket.write(chunk);
      }
      if (!ok) {
        body.pause();
        socket.once('drain', () => {
          if (this.#current === ex) body.resume();
        });
      }
    };
    const onEnd = (): void => {
      detach();
      if (this.#current !== ex) return;
      const declared = ex.head.contentLength;
      if (!chunked && declared >= 0 && this.#bodyBytes !== declared) {
        this.#fail(ex, new InvalidRequestError(`request body was ${this.#bodyBytes} bytes, content-length said ${declared}`));
        return;
      }
      if (chunked) socket.write(LAST_CHUNK, 'latin1');
      this.#requestSent(ex);
    };
    const onError = (err: Error): void => {
      detach();
      if (this.#current === ex) this.#fail(ex, err);
    };
    const detach = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      if (this.#body === body) this.#body = undefined;
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  }

  #requestSent(ex: Exchange): void {
    this.#sent = true;
    ex.handler.onRequestSent?.();
  }

  #onData(chunk: Buffer): void {
    const ex = this.#current;
    if (ex === undefined) {
      // Nothing was asked: an upstream that talks out of turn cannot be trusted with the next request.
      this.#close();
      return;
    }
    this.#feed(ex, chunk, 0);
  }

  #feed(ex: Exchange, chunk: Buffer, from: number): void {
    let pos: number;
    try {
      pos = this.#parser.execute(chunk, from);
    } catch (err) {
      this.#fail(ex, err as Error);
      return;
    }
    if (this.#current !== ex) return; // abandoned from a handler callback
    if (this.#parser.upgraded) {
      this.#handOver(ex, chunk, pos);
      return;
    }
    if (ex.over) {
      // The response ended: anything after it was not asked for.
      if (pos < chunk.length) this.#reusable = false;
      // A response before the whole request (an early 413, say): the upstream no longer reads the
      // body, and the connection cannot be reused mid-request (Envoy closes it too).
      if (this.#sent) this.#release();
      else this.#abortBody();
      return;
    }
    if (pos < chunk.length) {
      // Paused by the handler in the middle of this read.
      this.#held = chunk;
      this.#heldAt = pos;
      this.socket.pause();
    } else if (ex.paused) {
      this.socket.pause();
    }
  }

  readingChanged(ex: Exchange): void {
    if (ex !== this.#current || ex.over || this.#closed) return;
    if (ex.paused) {
      this.socket.pause();
      return;
    }
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) {
      this.#feed(ex, held, this.#heldAt);
      if (this.#held !== undefined || this.#current !== ex || ex.paused) return;
    }
    this.socket.resume();
  }

  /** Ends the connection after a response that cannot be followed by another (the body still being sent is dropped). */
  #abortBody(): void {
    this.#reusable = false;
    this.#body?.destroy();
    this.#body = undefined;
    this.#current = undefined;
    this.#close();
  }

  #release(): void {
    this.#current = undefined;
    this.#held = undefined;
    // A handler may have paused on the last chunk and will never resume an ended exchange: reading
    // is the connection's again (a paused socket would hang the next exchange).
    if (this.socket.isPaused()) this.socket.resume();
    if (!this.#reusable || !this.#parser.keepAlive || this.#closed || !this.#followHint()) {
      this.#close();
      return;
    }
    this.#owner.released(this);
  }

  /**
   * Closes idle connections a second before the upstream would (`Keep-Alive: timeout=N`): a request
   * written as the upstream closes an idle connection would fail as a reset (the 503 UC that Envoy
   * shows in front of Node apps, whose servers close after 5 s). False: too short to reuse at all.
   */
  #followHint(): boolean {
    const hint = this.#parser.idleHintS;
    if (hint === this.#hintS) return this.#idleMs >= 0;
    this.#hintS = hint;
    if (hint < 0) {
      this.#setIdle(this.#configuredIdleMs);
      return true;
    }
    const byHint = hint * 1000 - 1000;
    if (byHint <= 0) {
      this.#idleMs = -1;
      return false;
    }
    this.#setIdle(this.#configuredIdleMs > 0 ? Math.min(this.#configuredIdleMs, byHint) : byHint);
    return true;
  }

  /** Node re-arms a socket's timeout on every read and write: it fires only after a quiet spell. */
  #setIdle(ms: number): void {
    if (ms === this.#idleMs) return;
    this.#idleMs = ms;
    this.socket.setTimeout(ms);
  }

  #handOver(ex: Exchange, chunk: Buffer, pos: number): void {
    this.#current = undefined;
    this.#closed = true;
    const socket = this.socket;
    const l = this.#listeners;
    // Reading goes back to the socket's stream, for whoever takes the tunnel.
    if (this.#reader !== undefined) this.#reader.toStream(socket);
    else socket.off('data', l.data);
    socket.off('end', l.end);
    socket.off('error', l.error);
    socket.off('close', l.close);
    socket.off('timeout', l.timeout);
    socket.setTimeout(0);
    socket.pause();
    if (pos < chunk.length) socket.unshift(chunk.subarray(pos));
    this.#owner.gone(this);
    const head = ex.takeUpgradeHead()!;
    ex.upgraded(head.status, head.headers, socket);
  }

  /** The exchange's handler gave up (abort): mid-exchange, the connection is closed. */
  abandon(ex: Exchange, _reason: Error): void {
    if (ex !== this.#current) return;
    this.#current = undefined;
    this.#parser.reset();
    if (this.#pristine) return; // run() gives the connection back
    this.#body?.destroy();
    this.#body = undefined;
    this.#close();
  }

  #fail(ex: Exchange, err: Error): void {
    if (this.#current === ex) {
      this.#current = undefined;
      this.#parser.reset();
    }
    this.#body?.destroy();
    this.#body = undefined;
    this.#close();
    ex.fail(err);
  }

  #onEnd(): void {
    const ex = this.#current;
    if (ex === undefined) this.#close();
    else if (this.#parser.readsUntilClose) {
      this.#parser.finish(); // the body ran to the close: the response is complete
      this.#abortBody();
    } else {
      this.#fail(ex, terminated());
    }
  }

  #onSocketError(err: Error): void {
    const ex = this.#current;
    if (ex === undefined) this.#close();
    else this.#fail(ex, new UpstreamResetError((err as { code?: string }).code ?? 'connection_failure', `upstream connection error: ${err.message}`, { cause: err }));
  }

  #onClose(): void {
    const ex = this.#current;
    if (ex !== undefined) this.#fail(ex, terminated());
    this.#closed = true;
    this.#owner.gone(this);
  }

  /**
   * Closes the connection (idempotent) and stops taking exchanges at once: the socket's 'close' comes
   * only in a later phase of the event loop, and an idle connection still listed until then could be
   * handed a request in between.
   */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
    this.#owner.closing(this);
  }

  /** Closes it now if idle, else after its exchange (pool closing, max duration). */
  retire(): void {
    this.#reusable = false;
    if (this.#current === undefined) this.#close();
  }

  /** Closes it now, failing its exchange with `err`. */
  destroy(err: Error): void {
    const ex = this.#current;
    if (ex !== undefined) this.#fail(ex, err);
    else this.#close();
  }
}
