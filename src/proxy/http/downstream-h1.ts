/**
 * One HTTP/1.x downstream exchange on weft's own codec: the request as `RequestParser` read it, its body
 * as a paused stream, and the response written straight to the socket with the framing this side
 * chooses (RFC 9112 §6): `content-length` when the response declares it, chunked for HTTP/1.1
 * otherwise (trailers ride on the last chunk), close-delimited for HTTP/1.0; no body for HEAD, 1xx,
 * 204 and 304. The head and the body bytes written in the same tick leave in one system call. Upgrade
 * and CONNECT requests hand the socket over through `tunnel`, with the bytes read past their head.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { http } from '../core/builtins.ts';
import type { RequestParser } from '../codec/http1/request-parser.ts';
import { isToken } from '../codec/token.ts';
import { writeChunk } from '../codec/http1/chunk.ts';
import { writeHeadAndBody } from '../codec/http1/head-and-body.ts';
import { BodyListeners, type BodyStream, type Downstream, type DownstreamListener } from './downstream.ts';
import { firstValue, type HeaderMap } from './headers.ts';
import { httpDate } from './http-date.ts';
import type { HttpProtocol } from './stream-info.ts';

/** The connection, as its exchanges see it. */
export interface H1Link {
  readonly socket: Socket;
  /** Close the connection after the current response (draining, max requests, max duration). */
  closeAfterResponse: boolean;
  /** The response is complete (or the exchange ended without one). */
  exchangeDone(ex: H1Downstream): void;
  /** The body's reader wants bytes again. */
  resumeBody(): void;
  /** Takes the socket away from the codec for a tunnel; returns the bytes read past the head. */
  handOver(): Buffer | undefined;
}

const Framing = { None: 0, Length: 1, Chunked: 2, UntilClose: 3 } as const;
type Framing = (typeof Framing)[keyof typeof Framing];

export class H1Downstream implements Downstream {
  readonly protocol: HttpProtocol;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly absoluteForm: boolean;
  readonly headers: HeaderMap;
  readonly headerCount: number;
  readonly upgrade: string | undefined;
  readonly connect: boolean;
  readonly hasBody: boolean;
  /** When the head was read (performance.now()), for the request timeout. */
  readonly startedAt: number;
  readonly #link: H1Link;
  readonly #socket: Socket;
  /** The client lets the connection carry another request, and this is not its last. */
  readonly #keepAlive: boolean;
  #body: H1RequestBody | undefined;
  #requestDone = false;
  #headersSent = false;
  #framing: Framing = Framing.None;
  #remaining = 0;
  /** The response head, made but not written yet (see writeHead). */
  #pendingHead: string | undefined;
  /** This response closes the connection. */
  #close = false;
  #closed = false;
  #aborted = false;
  #tunnelled = false;
  #timedOut = false;
  #listener: DownstreamListener | undefined;

  constructor(link: H1Link, p: RequestParser, last: boolean, now: number) {
    this.#link = link;
    this.#socket = link.socket;
    this.startedAt = now;
    this.protocol = p.http10 ? 'HTTP/1.0' : 'HTTP/1.1';
    this.method = p.method;
    this.headers = p.headers;
    this.headerCount = p.fieldCount;
    this.connect = p.connect;
    this.upgrade = p.upgrade;
    this.hasBody = p.hasBody;
    this.#keepAlive = p.keepAlive && !last && !p.connect && p.upgrade === undefined;
    const target = p.target;
    const abs = p.absolute; // split (and checked) by the parser
    this.absoluteForm = abs !== undefined;
    this.authority = this.connect ? target : (abs?.authority ?? firstValue(p.headers, 'host') ?? '');
    this.path = this.connect ? '' : (abs?.path ?? target);
  }

  get body(): BodyStream {
    return this.#stream();
  }

  #stream(): H1RequestBody {
    return (this.#body ??= new H1RequestBody(this.#link));
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get requestDone(): boolean {
    return this.#requestDone;
  }

  /** Whether the connection may carry the next request after this exchange (once its request is read). */
  get reusable(): boolean {
    return !this.#close && !this.#tunnelled && !this.#aborted;
  }

  /** The response is complete before the request: the rest of its body is read and dropped. */
  discardBody(): void {
    this.#stream().discard();
  }

  /** Body bytes dropped by `discardBody`. */
  get discardedBytes(): number {
    return this.#body?.dropped ?? 0;
  }

  /** Body bytes from the parser; false stops it (nobody reads yet, or the reader paused). */
  bodyBytes(chunk: Buffer): boolean {
    return this.#stream().push(chunk);
  }

  get bodyPaused(): boolean {
    return this.#body !== undefined && this.#body.stalled;
  }

  /** The request did not arrive in time (once). */
  requestTimedOut(): void {
    if (this.#timedOut || this.#closed) return;
    this.#timedOut = true;
    this.#listener?.requestTimedOut();
  }

  /** The request is complete. */
  requestEnded(): void {
    this.#requestDone = true;
    this.#body?.end();
  }

  /** The connection is gone, or the request could not be read: the exchange ends here. */
  abort(err: Error): void {
    this.#body?.fail(err);
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#tunnelled) {
      this.#aborted = true;
      this.#listener?.downstreamAborted();
    }
    this.#listener?.downstreamClosed();
  }

  writeHead(status: number, headers: OutgoingHttpHeaders, endStream: boolean): void {
    if (this.#closed || this.#headersSent) return;
    let head: string;
    try {
      head = this.#head(status, headers, endStream);
    } catch {
      this.reset(); // a field the codec cannot write (control characters): nothing was sent
      return;
    }
    this.#headersSent = true;
    if (endStream) {
      this.#socket.write(head, 'latin1');
      this.#complete();
      return;
    }
    // Held until the first body bytes or the end of the tick, so that the head leaves with the body
    // bytes written right after it, in one write.
    this.#pendingHead = head;
    process.nextTick(flushHead, this);
  }

  /** Writes the head if it is still held (at the end of the tick it was made in, or before the response completes). */
  flushHead(): void {
    const head = this.#pendingHead;
    if (head === undefined) return;
    this.#pendingHead = undefined;
    if (!this.#socket.destroyed) this.#socket.write(head, 'latin1');
  }

  retractHead(): boolean {
    if (this.#pendingHead === undefined || this.#closed) return false;
    this.#pendingHead = undefined;
    this.#headersSent = false;
    this.#framing = Framing.None;
    this.#remaining = 0;
    this.#close = false;
    return true;
  }

  /** Writes body bytes, with the head when it is still held. */
  #send(bytes: Buffer, chunked: boolean): boolean {
    const head = this.#pendingHead;
    if (head === undefined) return chunked ? writeChunk(this.#socket, bytes) : this.#socket.write(bytes);
    this.#pendingHead = undefined;
    return writeHeadAndBody(this.#socket, head, bytes, chunked);
  }

  #head(status: number, headers: OutgoingHttpHeaders, endStream: boolean): string {
    let head = statusLine(status);
    let length = -1;
    let date = false;
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined) continue;
      switch (name) {
        case 'content-length': {
          const n = Number(Array.isArray(value) ? value[0] : value);
          if (Number.isSafeInteger(n) && n >= 0) length = n;
          continue;
        }
        case 'connection': case 'transfer-encoding': case 'keep-alive':
          continue; // framing and persistence are the codec's
        case 'date':
          date = true;
          break;
        default:
      }
      head += fieldLines(name, value);
    }
    if (!date) head += `date: ${httpDate()}\r\n`;
    let close = this.#link.closeAfterResponse || !this.#keepAlive;
    if (this.method === 'HEAD' || status === 204 || status === 304 || status < 200) {
      if (length >= 0 && status !== 204) head += `content-length: ${length}\r\n`;
    } else if (endStream) {
      head += 'content-length: 0\r\n';
    } else if (length >= 0) {
      head += `content-length: ${length}\r\n`;
      this.#framing = Framing.Length;
      this.#remaining = length;
    } else if (this.protocol === 'HTTP/1.1') {
      head += 'transfer-encoding: chunked\r\n';
      this.#framing = Framing.Chunked;
    } else {
      this.#framing = Framing.UntilClose;
      close = true;
    }
    this.#close = close;
    if (close) head += 'connection: close\r\n';
    else if (this.protocol === 'HTTP/1.0') head += 'connection: keep-alive\r\n';
    return `${head}\r\n`;
  }

  expectTrailers(): void {
    // Trailers ride on the last chunk; a response with a declared length drops them.
  }

  write(chunk: Buffer): boolean {
    if (this.#closed || !this.#headersSent || chunk.length === 0) return true;
    switch (this.#framing) {
      case Framing.Length: {
        if (this.#remaining === 0) return true;
        const part = chunk.length > this.#remaining ? chunk.subarray(0, this.#remaining) : chunk;
        this.#remaining -= part.length;
        return this.#send(part, false);
      }
      case Framing.Chunked:
        return this.#send(chunk, true);
      case Framing.UntilClose:
        return this.#send(chunk, false);
      default:
        return true;
    }
  }

  end(trailers?: OutgoingHttpHeaders): void {
    if (this.#closed) return;
    if (!this.#headersSent) {
      this.writeHead(200, {}, true);
      return;
    }
    if (this.#framing === Framing.Chunked) {
      let last = '0\r\n';
      if (trailers !== undefined) {
        for (const name in trailers) {
          const value = trailers[name];
          if (value === undefined) continue;
          try {
            last += fieldLines(name, value);
          } catch {
            // A trailer the codec cannot write is dropped; the body is complete.
          }
        }
      }
      const head = this.#pendingHead ?? '';
      this.#pendingHead = undefined;
      this.#socket.write(`${head}${last}\r\n`, 'latin1');
    } else if (this.#framing === Framing.Length && this.#remaining > 0) {
      this.reset(); // fewer bytes than declared: the client must see the response cut, not complete
      return;
    }
    this.#complete();
  }

  #complete(): void {
    if (this.#closed) return;
    this.flushHead();
    this.#closed = true;
    this.#listener?.downstreamClosed();
    this.#link.exchangeDone(this);
  }

  onDrain(cb: () => void): void {
    this.#socket.once('drain', cb);
  }

  attach(listener: DownstreamListener): void {
    this.#listener = listener;
    if (this.#aborted) listener.downstreamAborted();
    if (this.#closed) listener.downstreamClosed();
  }

  reset(): void {
    // An HTTP/1 stream cannot be reset alone: the connection goes, which aborts this exchange.
    this.#socket.destroy();
  }

  tunnel(status: number, headers: OutgoingHttpHeaders): Duplex | undefined {
    if ((!this.connect && this.upgrade === undefined) || this.#closed || this.#headersSent) return undefined;
    let head = statusLine(status);
    try {
      for (const name in headers) {
        const value = headers[name];
        if (value !== undefined) head += fieldLines(name, value);
      }
    } catch {
      this.reset();
      return undefined;
    }
    // The exchange stays open as long as the tunnel: the connection's close ends it (not as an abort).
    this.#tunnelled = true;
    this.#headersSent = true;
    const socket = this.#socket;
    const early = this.#link.handOver();
    socket.write(`${head}\r\n`, 'latin1');
    if (early !== undefined && early.length > 0) socket.unshift(early);
    return socket;
  }
}

/**
 * The request body as a paused stream, in the shape `RequestBody` reads (`BodyStream`). Bytes that
 * arrive while nobody reads, or while the reader is paused, are held here and the parser stops, so the
 * socket stops being read: backpressure reaches the client through TCP.
 */
class H1RequestBody extends BodyListeners {
  readonly #link: H1Link;
  #held: Buffer[] = [];
  #paused = true;
  #ended = false;
  #endSent = false;
  #drop = false;
  dropped = 0;

  constructor(link: H1Link) {
    super();
    this.#link = link;
  }

  /** Whether bytes are waiting for the reader (the parser must stop). */
  get stalled(): boolean {
    return !this.#drop && (this.#paused || this.dataListener === undefined);
  }

  /** From now on bytes are counted and dropped. */
  discard(): void {
    this.#drop = true;
    for (const chunk of this.#held) this.dropped += chunk.length;
    this.#held = [];
  }

  pause(): this {
    this.#paused = true;
    return this;
  }

  resume(): this {
    if (!this.#paused) return this;
    this.#paused = false;
    const held = this.#held;
    while (held.length > 0 && !this.#paused && this.dataListener !== undefined) this.dataListener(held.shift()!);
    if (this.#paused) return this;
    if (held.length === 0 && this.#ended) this.#sendEnd();
    else this.#link.resumeBody();
    return this;
  }

  push(chunk: Buffer): boolean {
    if (this.#drop) {
      this.dropped += chunk.length;
      return true;
    }
    if (this.stalled || this.#held.length > 0) {
      this.#held.push(chunk);
      return false;
    }
    this.dataListener!(chunk);
    return !this.#paused;
  }

  end(): void {
    this.#ended = true;
    if (!this.stalled && this.#held.length === 0) this.#sendEnd();
  }

  fail(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endSent = true;
    this.errorListener?.(err);
  }

  #sendEnd(): void {
    if (this.#endSent) return;
    this.#endSent = true;
    this.endListener?.();
  }
}

function flushHead(exchange: H1Downstream): void {
  exchange.flushHead();
}

const statusLines: string[] = [];

function statusLine(status: number): string {
  return (statusLines[status] ??= `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Unknown'}\r\n`);
}

/** Field names already checked (they repeat across responses). */
const goodNames = new Set<string>();

function validName(name: string): boolean {
  if (goodNames.has(name)) return true;
  if (!isToken(name)) return false;
  if (goodNames.size < 4096) goodNames.add(name);
  return true;
}

const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** `name: value\r\n` for each value; throws for a name that is not a token or a value with control characters. */
function fieldLines(name: string, value: string | number | readonly string[]): string {
  if (!validName(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (typeof value === 'number') return `${name}: ${value}\r\n`;
  if (typeof value === 'string') {
    if (BAD_VALUE.test(value)) throw new TypeError(`invalid character in header ${name}`);
    return `${name}: ${value}\r\n`;
  }
  let lines = '';
  for (const v of value) lines += fieldLines(name, v);
  return lines;
}
