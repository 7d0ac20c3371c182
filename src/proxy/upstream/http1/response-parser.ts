/**
 * An incremental, strict HTTP/1.1 response parser for weft's upstream connections (RFC 9112). It reads
 * what an upstream sends on one connection, one response at a time, and reports the head, the body
 * bytes (as views of the socket's own buffers, never copied) and the trailers to a sink.
 *
 * Strict where a lenient parser opens response smuggling or desync: CRLF line ends only, no obs-fold,
 * no whitespace before a field's colon, field names are tokens, values have no control characters,
 * Content-Length is digits (repeats must agree), Content-Length with Transfer-Encoding is refused
 * (Envoy's codec does the same unless `allow_chunked_length`), chunk sizes are bounded hex, and every
 * chunk ends in CRLF. Limits on the head follow Envoy's defaults for upstream responses: 60 KiB and
 * 100 fields (`max_response_headers_kb`, `max_response_headers_count`).
 *
 * Framing (RFC 9112 §6.3): 1xx other than 101 is skipped; the answer to HEAD and 204/304 have no body;
 * a chunked Transfer-Encoding is read as chunks; any other Transfer-Encoding, or neither header, runs
 * to the end of the connection; otherwise Content-Length bytes.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Why a response could not be read; the connection it came on is unusable. */
export class HttpParseError extends Error {
  readonly code = 'WEFT_UPSTREAM_PROTOCOL_ERROR';
}

/**
 * Receives one response. Contract: `onHead` once (a 101 ends the response there), then `onBody` zero or
 * more times, then `onEnd` once. `onHead` and `onBody` return false to stop the parser where it is
 * (pause or abort): `execute` then returns the offset it reached, and the caller resumes from there.
 */
export interface ResponseSink {
  onHead(status: number, headers: IncomingHttpHeaders, statusText: string): boolean;
  onBody(chunk: Buffer): boolean;
  onEnd(trailers: IncomingHttpHeaders): void;
}

export interface ParserLimits {
  readonly maxHeadBytes: number;
  readonly maxFields: number;
}

export const DEFAULT_LIMITS: ParserLimits = { maxHeadBytes: 60 * 1024, maxFields: 100 };

/** Where the parser is in a response. */
const State = { Idle: 0, Head: 1, Length: 2, ChunkSize: 3, ChunkData: 4, ChunkDataEnd: 5, Trailers: 6, UntilClose: 7, Upgraded: 8 } as const;
type State = (typeof State)[keyof typeof State];

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const LF = Buffer.from('\n');
const MAX_CHUNK_LINE = 4096;
const NO_TRAILERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** RFC 9110 token characters. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** What the head's framing fields said, gathered while its fields are read. */
interface Framing {
  contentLength: number;
  chunked: boolean;
  transferEncoding: boolean;
  close: boolean;
  keepAlive: boolean;
  /** `Keep-Alive: timeout=N` in seconds, -1 when absent. */
  idleHintS: number;
}

export class ResponseParser {
  readonly #limits: ParserLimits;
  #sink: ResponseSink | undefined;
  #state: State = State.Idle;
  #headRequest = false;
  #upgradeRequested = false;
  /** Bytes of a head, chunk-size line or trailer block that arrived split over reads. */
  #partial: Buffer | undefined;
  #remaining = 0;
  /** Set when the sink stopped the parser inside a head (or the head was a 101). */
  #stopped = false;
  /** Whether the connection may carry another request once this response ends. */
  keepAlive = false;
  /**
   * How long the upstream says it keeps an idle connection (`Keep-Alive: timeout=N`, seconds; -1 when
   * it does not say). Node's HTTP server says 5 s on every response.
   */
  idleHintS = -1;

  constructor(limits: ParserLimits = DEFAULT_LIMITS) {
    this.#limits = limits;
  }

  /** Whether a response is being read (the connection is not at a message boundary). */
  get busy(): boolean {
    return this.#state !== State.Idle;
  }

  /** Whether the last response was a 101 that handed the connection over. */
  get upgraded(): boolean {
    return this.#state === State.Upgraded;
  }

  /** Whether the body being read runs until the connection closes. */
  get readsUntilClose(): boolean {
    return this.#state === State.UntilClose;
  }

  /** Starts reading the response to a request just written (`head`: it was a HEAD request). */
  expect(sink: ResponseSink, head: boolean, upgrade: boolean): void {
    this.#sink = sink;
    this.#headRequest = head;
    this.#upgradeRequested = upgrade;
    this.#state = State.Head;
    this.#partial = undefined;
    this.keepAlive = false;
  }

  /** Drops the response being read (its request was abandoned); the connection must not be reused. */
  reset(): void {
    this.#sink = undefined;
    this.#state = State.Idle;
    this.#partial = undefined;
  }

  /**
   * Reads `buf` from `start`. Returns where it stopped: `buf.length` when all was read, less when the
   * sink stopped it, when the response ended with bytes left over (the caller decides: a 101's
   * tunnel bytes, or an error for bytes no request asked for). Throws `HttpParseError`.
   */
  execute(buf: Buffer, start: number): number {
    let pos = start;
    const end = buf.length;
    while (pos < end) {
      switch (this.#state) {
        case State.Idle:
        case State.Upgraded:
          return pos;
        case State.Head: {
          const next = this.#readHead(buf, pos);
          if (next < 0) return end;
          pos = next;
          if (this.#stopped) return pos;
          break;
        }
        case State.Length:
        case State.ChunkData: {
          const n = Math.min(this.#remaining, end - pos);
          this.#remaining -= n;
          const go = this.#sink!.onBody(buf.subarray(pos, pos + n));
          pos += n;
          if (this.#remaining === 0) {
            if (this.#state === State.Length) this.#finish(NO_TRAILERS);
            else {
              this.#state = State.ChunkDataEnd;
              this.#remaining = 2;
            }
          }
          if (!go) return pos;
          break;
        }
        case State.ChunkSize: {
          const next = this.#readChunkSize(buf, pos);
          if (next < 0) return end;
          pos = next;
          break;
        }
        case State.ChunkDataEnd: {
          const want = this.#remaining === 2 ? 0x0d : 0x0a;
          if (buf[pos] !== want) throw new HttpParseError('upstream sent a chunk not followed by CRLF');
          pos++;
          if (--this.#remaining === 0) this.#state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const next = this.#readTrailers(buf, pos);
          if (next < 0) return end;
          pos = next;
          break;
        }
        case State.UntilClose: {
          const go = this.#sink!.onBody(pos === 0 ? buf : buf.subarray(pos));
          pos = end;
          if (!go) return pos;
          break;
        }
      }
    }
    return pos;
  }

  /** The connection closed: ends a body that runs until close; any other unfinished response is an error. */
  finish(): void {
    if (this.#state === State.UntilClose) {
      this.#finish(NO_TRAILERS);
      return;
    }
    if (this.#state !== State.Idle && this.#state !== State.Upgraded) throw new HttpParseError(this.#state === State.Head ? 'upstream closed the connection before a complete response head' : 'upstream closed the connection before the response body was complete');
  }

  /**
   * The bytes from `pos` up to and including the next `delimiter`, joined with what earlier reads left
   * (`#partial`); undefined when the delimiter has not arrived (the bytes are kept). `next` is the
   * offset in `buf` just after the delimiter. More than `limit` bytes before it is an error (`what`).
   */
  #span(buf: Buffer, pos: number, delimiter: Buffer, limit: number, what: string): { block: Buffer; from: number; at: number; next: number } | undefined {
    const partial = this.#partial;
    const block = partial === undefined ? buf : Buffer.concat([partial, buf.subarray(pos)]);
    const from = partial === undefined ? pos : 0;
    const searchFrom = partial === undefined ? pos : Math.max(0, partial.length - delimiter.length + 1);
    const at = block.indexOf(delimiter, searchFrom);
    if (at < 0 ? block.length - from > limit : at - from > limit) throw new HttpParseError(`upstream sent ${what} over ${limit} bytes`);
    if (at < 0) {
      // Split over reads (rare): keep a copy of what came so far.
      this.#partial = partial === undefined ? Buffer.from(buf.subarray(pos)) : block;
      return undefined;
    }
    this.#partial = undefined;
    const after = at + delimiter.length;
    return { block, from, at, next: partial === undefined ? after : pos + after - partial.length };
  }

  /** Returns the offset after the head, or -1 when the head is not complete yet (bytes kept). */
  #readHead(buf: Buffer, pos: number): number {
    const span = this.#span(buf, pos, CRLFCRLF, this.#limits.maxHeadBytes, 'a response head');
    if (span === undefined) return -1;
    this.#stopped = false;
    this.#onHead(span.block.toString('latin1', span.from, span.at + 2));
    return span.next;
  }

  #onHead(head: string): void {
    const lineEnd = head.indexOf('\r\n');
    // "HTTP/1.x SSS[ reason]"
    if (lineEnd < 12 || !head.startsWith('HTTP/1.') || (head.charCodeAt(7) !== 0x31 && head.charCodeAt(7) !== 0x30) || head.charCodeAt(8) !== 0x20) {
      throw new HttpParseError(`upstream sent a malformed status line ${JSON.stringify(head.slice(0, Math.min(lineEnd < 0 ? 40 : lineEnd, 40)))}`);
    }
    const d0 = head.charCodeAt(9) - 0x30;
    const d1 = head.charCodeAt(10) - 0x30;
    const d2 = head.charCodeAt(11) - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || (lineEnd > 12 && head.charCodeAt(12) !== 0x20)) {
      throw new HttpParseError(`upstream sent a malformed status line ${JSON.stringify(head.slice(0, Math.min(lineEnd, 40)))}`);
    }
    const status = d0 * 100 + d1 * 10 + d2;
    const http10 = head.charCodeAt(7) === 0x30;
    const framing: Framing = { contentLength: -1, chunked: false, transferEncoding: false, close: false, keepAlive: false, idleHintS: -1 };
    const headers = this.#fields(head, lineEnd + 2, framing);
    const statusText = lineEnd > 13 ? head.slice(13, lineEnd) : '';
    if (status < 200) {
      if (status === 101) {
        if (!this.#upgradeRequested) throw new HttpParseError('upstream answered 101 Switching Protocols to a request that asked for no upgrade');
        this.#state = State.Upgraded;
        this.keepAlive = false;
        this.#stopped = true;
        this.#sink!.onHead(status, headers, statusText);
        return;
      }
      return; // 100 Continue, 102, 103: interim, the final response follows.
    }
    this.keepAlive = http10 ? framing.keepAlive && !framing.close : !framing.close;
    this.idleHintS = framing.idleHintS;
    const bodyless = this.#headRequest || status === 204 || status === 304;
    if (!bodyless) this.#frame(framing);
    const go = this.#sink!.onHead(status, headers, statusText);
    if (this.#sink === undefined) {
      this.#stopped = true; // the sink abandoned the response (reset())
      return;
    }
    if (bodyless) this.#finish(NO_TRAILERS);
    else if (this.#state === State.Length && this.#remaining === 0) this.#finish(NO_TRAILERS);
    if (!go) this.#stopped = true;
  }

  #frame(f: Framing): void {
    if (f.transferEncoding) {
      if (f.contentLength >= 0) throw new HttpParseError('upstream sent both content-length and transfer-encoding');
      if (f.chunked) {
        this.#state = State.ChunkSize;
        return;
      }
      this.#state = State.UntilClose;
      this.keepAlive = false;
      return;
    }
    if (f.contentLength >= 0) {
      this.#state = State.Length;
      this.#remaining = f.contentLength;
      return;
    }
    this.#state = State.UntilClose;
    this.keepAlive = false;
  }

  /** Reads the field lines of a head or trailer block from `pos`; `framing` collects what they say. */
  #fields(block: string, pos: number, framing: Framing | undefined): IncomingHttpHeaders {
    const headers: IncomingHttpHeaders = {};
    const end = block.length;
    let count = 0;
    while (pos < end) {
      let eol = block.indexOf('\r\n', pos);
      if (eol < 0) eol = end;
      if (++count > this.#limits.maxFields) throw new HttpParseError(`upstream response has more than ${this.#limits.maxFields} header fields`);
      const first = block.charCodeAt(pos);
      if (first === 0x20 || first === 0x09) throw new HttpParseError('upstream sent a folded header line (obs-fold)');
      const colon = block.indexOf(':', pos);
      if (colon <= pos || colon > eol) throw new HttpParseError(`upstream sent a header line without a field name and colon: ${JSON.stringify(block.slice(pos, Math.min(eol, pos + 40)))}`);
      for (let i = pos; i < colon; i++) {
        const c = block.charCodeAt(i);
        if (c >= 128 || TOKEN[c] === 0) throw new HttpParseError(`upstream sent an invalid header field name ${JSON.stringify(block.slice(pos, colon))}`);
      }
      let vs = colon + 1;
      let ve = eol;
      while (vs < ve && (block.charCodeAt(vs) === 0x20 || block.charCodeAt(vs) === 0x09)) vs++;
      while (ve > vs && (block.charCodeAt(ve - 1) === 0x20 || block.charCodeAt(ve - 1) === 0x09)) ve--;
      for (let i = vs; i < ve; i++) {
        const c = block.charCodeAt(i);
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new HttpParseError(`upstream sent a control character in header ${JSON.stringify(block.slice(pos, colon))}`);
      }
      const name = block.slice(pos, colon).toLowerCase();
      const value = block.slice(vs, ve);
      if (framing !== undefined) this.#framingField(name, value, framing);
      const prev = headers[name];
      if (prev === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
      else if (Array.isArray(prev)) prev.push(value);
      else headers[name] = [prev, value] as never;
      pos = eol + 2;
    }
    return headers;
  }

  #framingField(name: string, value: string, f: Framing): void {
    switch (name) {
      case 'content-length': {
        // "5" or a list of identical values ("5, 5", RFC 9110 §8.6).
        let n = -1;
        for (const part of value.split(',')) {
          const v = part.trim();
          if (!/^\d{1,15}$/.test(v)) throw new HttpParseError(`upstream sent an invalid content-length ${JSON.stringify(value)}`);
          const parsed = Number(v);
          if (n >= 0 && parsed !== n) throw new HttpParseError(`upstream sent conflicting content-length values ${JSON.stringify(value)}`);
          n = parsed;
        }
        if (f.contentLength >= 0 && f.contentLength !== n) throw new HttpParseError('upstream sent conflicting content-length headers');
        f.contentLength = n;
        return;
      }
      case 'transfer-encoding': {
        f.transferEncoding = true;
        const codings = value.toLowerCase().split(',');
        // Chunked only as the final coding (RFC 9112 §6.3): a later field replaces what an earlier one said.
        f.chunked = codings[codings.length - 1]!.trim() === 'chunked';
        return;
      }
      case 'keep-alive': {
        const m = /(?:^|[\s,])timeout\s*=\s*(\d{1,9})/i.exec(value);
        if (m !== null) f.idleHintS = Number(m[1]);
        return;
      }
      case 'connection':
        for (const part of value.toLowerCase().split(',')) {
          const t = part.trim();
          if (t === 'close') f.close = true;
          else if (t === 'keep-alive') f.keepAlive = true;
        }
        return;
      default:
    }
  }

  /** Reads "hex[;ext]\r\n"; returns the offset after it, or -1 when the line is incomplete (kept). */
  #readChunkSize(buf: Buffer, pos: number): number {
    const span = this.#span(buf, pos, LF, MAX_CHUNK_LINE, 'a chunk-size line');
    if (span === undefined) return -1;
    const { block: line, from, at: lf } = span;
    if (lf === from || line[lf - 1] !== 0x0d) throw new HttpParseError('upstream sent a chunk-size line not ended by CRLF');
    let size = 0;
    let i = from;
    for (; i < lf - 1; i++) {
      const v = hexValue(line[i]!);
      if (v < 0) break;
      if (i - from >= 13) throw new HttpParseError('upstream sent a chunk size that is too large');
      size = size * 16 + v;
    }
    if (i === from) throw new HttpParseError('upstream sent a chunk without a size');
    // Only whitespace and extensions (";name[=value]") may follow the size.
    while (i < lf - 1 && (line[i] === 0x20 || line[i] === 0x09)) i++;
    if (i < lf - 1 && line[i] !== 0x3b) throw new HttpParseError('upstream sent an invalid chunk size');
    for (; i < lf - 1; i++) {
      const c = line[i]!;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new HttpParseError('upstream sent a control character in a chunk extension');
    }
    if (size === 0) {
      // The trailer section is read up to CRLFCRLF; starting it with the last-chunk line's own CRLF
      // makes an empty one ("\r\n") end the same way.
      this.#state = State.Trailers;
      this.#partial = CRLF;
    } else {
      this.#state = State.ChunkData;
      this.#remaining = size;
    }
    return span.next;
  }

  /** Reads the trailer section after the last chunk; returns the offset after it, or -1 (kept). */
  #readTrailers(buf: Buffer, pos: number): number {
    const span = this.#span(buf, pos, CRLFCRLF, this.#limits.maxHeadBytes, 'response trailers');
    if (span === undefined) return -1;
    // From + 2: past the CRLF the section was started with.
    this.#finish(span.at === span.from ? NO_TRAILERS : this.#fields(span.block.toString('latin1', span.from + 2, span.at), 0, undefined));
    return span.next;
  }

  #finish(trailers: IncomingHttpHeaders): void {
    const sink = this.#sink;
    this.#sink = undefined;
    this.#state = State.Idle;
    sink?.onEnd(trailers); // no sink: the response was abandoned from inside a callback
  }
}
