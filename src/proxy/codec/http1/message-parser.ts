/**
 * The part of HTTP/1.1 message parsing (RFC 9112) that requests and responses share: finding a head
 * that may arrive split over reads, reading its field lines strictly, collecting what they say about
 * framing, and reading the body that follows (Content-Length bytes, chunks with trailers, or bytes up to
 * the end of the connection). `RequestParser` and `ResponseParser` add the start line and the framing
 * rules of their side.
 *
 * Strict where a lenient parser opens smuggling or desync: CRLF line ends only (a bare LF is refused
 * as soon as it arrives, not waited past), no obs-fold, no whitespace before a field's colon, field
 * names are tokens, values have no control characters, Content-Length is digits (repeats must agree),
 * chunk sizes are bounded hex, and every chunk ends in CRLF. Body bytes reach the subclass as views of
 * the caller's buffers, never copied.
 */
import type { HeaderMap } from '../../http/headers.ts';
import { contentLengthValue } from '../content-length.ts';
import { find, step } from './field-names.ts';
import { TOKEN } from '../token.ts';

/** Why a message could not be read; the connection it came on is unusable. */
export class HttpParseError extends Error {
  readonly code: string;
  /** The status a server answers a request it could not read with (400, 431 or 501). */
  readonly status: number;

  constructor(message: string, code: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export interface ParserLimits {
  readonly maxHeadBytes: number;
  readonly maxFields: number;
}

/** Where the parser is in a message. */
export const State = { Idle: 0, Head: 1, Length: 2, ChunkSize: 3, ChunkData: 4, ChunkDataEnd: 5, Trailers: 6, UntilClose: 7, Upgraded: 8 } as const;
export type State = (typeof State)[keyof typeof State];

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const LF = Buffer.from('\n');
const MAX_CHUNK_LINE = 4096;
export const NO_TRAILERS: HeaderMap = Object.freeze({}) as HeaderMap;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** N of a Keep-Alive value that is exactly `timeout=N` (1 to 9 digits), else -1. */
function plainTimeout(value: string): number {
  if (value.length < 9 || value.length > 17 || !value.startsWith('timeout=')) return -1;
  let n = 0;
  for (let i = 8; i < value.length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** What a head's framing fields said, gathered while its fields are read. */
export class Framing {
  contentLength = -1;
  transferEncoding = false;
  /** Transfer-Encoding ends in `chunked`. */
  chunked = false;
  /** Transfer-Encoding is exactly `chunked` (the only coding a server must take in a request). */
  onlyChunked = false;
  close = false;
  keepAlive = false;
  /** `Connection` lists `upgrade`. */
  upgradeToken = false;
  /** `Keep-Alive: timeout=N` in seconds, -1 when absent. */
  idleHintS = -1;
  hosts = 0;
  expectContinue = false;
  /** Content-Length came as a list ("5, 5") or repeated: the fields keep one value, as forwarded. */
  contentLengthRepeated = false;
}

export abstract class MessageParser {
  readonly #limits: ParserLimits;
  /** Who sent the bytes, for error messages ("upstream", "client"). */
  readonly #peer: string;
  readonly #code: string;
  /** What a head is called in errors ("a response head"). */
  readonly #headName: string;
  protected state: State = State.Idle;
  /** Bytes of a head, chunk-size line or trailer block that arrived split over reads. */
  #partial: Buffer | undefined;
  #remaining = 0;
  /** Set by the subclass when it stopped the parser inside a head (sink said stop, or an upgrade). */
  protected stopped = false;

  constructor(limits: ParserLimits, peer: string, code: string, headName: string) {
    this.#limits = limits;
    this.#peer = peer;
    this.#code = code;
    this.#headName = headName;
  }

  /** Whether a message is being read (the connection is not at a message boundary). */
  get busy(): boolean {
    return this.state !== State.Idle;
  }

  /** Whether the last message handed the connection over (101, CONNECT, upgrade). */
  get upgraded(): boolean {
    return this.state === State.Upgraded;
  }

  /** Whether the body being read runs until the connection closes. */
  get readsUntilClose(): boolean {
    return this.state === State.UntilClose;
  }

  /** A parse error naming the sender: "upstream sent …". */
  protected fail(what: string, status = 400): HttpParseError {
    return new HttpParseError(`${this.#peer} sent ${what}`, this.#code, status);
  }

  /** Reads a head (its text from the start line through the last field line's CRLF). */
  protected abstract onHeadText(head: string): void;
  /** Body bytes; false stops the parser where it is. */
  protected abstract onBodyBytes(chunk: Buffer): boolean;
  /** The message is complete; the state is already Idle. */
  protected abstract onMessageEnd(trailers: HeaderMap): void;

  /** Starts reading a head. */
  protected beginHead(): void {
    this.state = State.Head;
    this.#partial = undefined;
  }

  /** Drops what is being read. */
  protected clear(): void {
    this.state = State.Idle;
    this.#partial = undefined;
  }

  /**
   * Reads `buf` from `start`. Returns where it stopped: `buf.length` when all was read, less when the
   * subclass stopped it, or when a message ended with bytes left over (the caller decides what they
   * are). Throws `HttpParseError`.
   */
  execute(buf: Buffer, start: number): number {
    let pos = start;
    const end = buf.length;
    while (pos < end) {
      switch (this.state) {
        case State.Idle:
        case State.Upgraded:
          return pos;
        case State.Head: {
          const span = this.#span(buf, pos, CRLFCRLF, this.#limits.maxHeadBytes, this.#headName, 431);
          if (span === undefined) return end;
          this.stopped = false;
          const text = span.block.toString('latin1', span.from, span.at + 2);
          try {
            this.onHeadText(text);
          } catch (err) {
            throw this.#preferBareLf(err, text, this.#headName);
          }
          pos = span.next;
          if (this.stopped) return pos;
          break;
        }
        case State.Length:
        case State.ChunkData: {
          const n = Math.min(this.#remaining, end - pos);
          this.#remaining -= n;
          const go = this.onBodyBytes(buf.subarray(pos, pos + n));
          pos += n;
          if (this.#remaining === 0) {
            if (this.state === State.Length) this.finishMessage(NO_TRAILERS);
            else if (this.state === State.ChunkData) {
              this.state = State.ChunkDataEnd;
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
          if (buf[pos] !== want) throw this.fail('a chunk not followed by CRLF');
          pos++;
          if (--this.#remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const span = this.#span(buf, pos, CRLFCRLF, this.#limits.maxHeadBytes, 'trailers', 431);
          if (span === undefined) return end;
          // From + 2: past the CRLF the section was started with.
          let trailers = NO_TRAILERS;
          if (span.at !== span.from) {
            const text = span.block.toString('latin1', span.from + 2, span.at);
            try {
              trailers = this.fields(text, 0, undefined).headers;
            } catch (err) {
              throw this.#preferBareLf(err, text, 'trailers');
            }
          }
          this.finishMessage(trailers);
          pos = span.next;
          break;
        }
        case State.UntilClose: {
          const go = this.onBodyBytes(pos === 0 ? buf : buf.subarray(pos));
          pos = end;
          if (!go) return pos;
          break;
        }
      }
    }
    return pos;
  }

  /** Body framing: `length` bytes (0: the message ends with its head). */
  protected frameLength(length: number): void {
    if (length === 0) {
      this.finishMessage(NO_TRAILERS);
      return;
    }
    this.state = State.Length;
    this.#remaining = length;
  }

  protected frameChunked(): void {
    this.state = State.ChunkSize;
  }

  protected frameUntilClose(): void {
    this.state = State.UntilClose;
  }

  protected finishMessage(trailers: HeaderMap): void {
    this.state = State.Idle;
    this.onMessageEnd(trailers);
  }

  /**
   * The bytes from `pos` up to and including the next `delimiter`, joined with what earlier reads left
   * (`#partial`); undefined when the delimiter has not arrived (the bytes are kept). `next` is the
   * offset in `buf` just after the delimiter. More than `limit` bytes before it is an error.
   */
  #span(buf: Buffer, pos: number, delimiter: Buffer, limit: number, what: string, status: number): { block: Buffer; from: number; at: number; next: number } | undefined {
    const partial = this.#partial;
    const block = partial === undefined ? buf : Buffer.concat([partial, buf.subarray(pos)]);
    const from = partial === undefined ? pos : 0;
    const searchFrom = partial === undefined ? pos : Math.max(0, partial.length - delimiter.length + 1);
    const at = block.indexOf(delimiter, searchFrom);
    if (at < 0 ? block.length - from > limit : at - from > limit) throw this.fail(`${what} over ${limit} bytes`, status);
    if (at < 0) {
      // A head or trailer section whose lines end in a bare LF never has its CRLFCRLF: refused at its
      // first such line rather than waited for until a timeout.
      if (delimiter === CRLFCRLF) this.#refuseBareLf(block, from, searchFrom, what);
      // Split over reads (rare): keep a copy of what came so far.
      this.#partial = partial === undefined ? Buffer.from(buf.subarray(pos)) : block;
      return undefined;
    }
    this.#partial = undefined;
    const after = at + delimiter.length;
    return { block, from, at, next: partial === undefined ? after : pos + after - partial.length };
  }

  /**
   * Throws when an LF from `i` on in `block` is not preceded by CR (a line of the section starting at
   * `from` ended by a bare LF: RFC 9112 §2.2 lets a recipient accept it, but a proxy that does reads
   * lines its peers may not, and Envoy's codecs refuse it). Only where CRLFCRLF was not found: a
   * complete head needs no scan, since its start-line and field readers refuse any LF inside a line.
   */
  #refuseBareLf(block: Buffer, from: number, i: number, what: string): void {
    for (;;) {
      i = block.indexOf(0x0a, i);
      if (i < 0) return;
      if (i === from || block[i - 1] !== 0x0d) throw this.fail(`${what} with a line ended by a bare LF`);
      i++;
    }
  }

  /**
   * The error for a complete head or trailer section that failed: the bare-LF one when `text` has a
   * bare LF anywhere (whatever the readers tripped on first), so that a section reads the same whether
   * it arrived whole or was refused by `#refuseBareLf` before its end. Runs only on the error path.
   */
  #preferBareLf(err: unknown, text: string, what: string): unknown {
    if (!(err instanceof HttpParseError)) return err;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
      if (i === 0 || text.charCodeAt(i - 1) !== 0x0d) return this.fail(`${what} with a line ended by a bare LF`);
    }
    return err;
  }

  /**
   * Reads the field lines of a head or trailer block from `pos`; `framing` collects what they say.
   * Repeated fields become arrays, in order.
   */
  protected fields(block: string, pos: number, framing: Framing | undefined): { headers: HeaderMap; count: number } {
    const headers: HeaderMap = {};
    const end = block.length;
    let count = 0;
    while (pos < end) {
      let eol = block.indexOf('\r\n', pos);
      if (eol < 0) eol = end;
      if (++count > this.#limits.maxFields) throw this.fail(`more than ${this.#limits.maxFields} header fields`, 431);
      const first = block.charCodeAt(pos);
      if (first === 0x20 || first === 0x09) throw this.fail('a folded header line (obs-fold)');
      const colon = block.indexOf(':', pos);
      if (colon <= pos || colon > eol) throw this.fail(`a header line without a field name and colon: ${JSON.stringify(block.slice(pos, Math.min(eol, pos + 40)))}`);
      let hash = 0;
      for (let i = pos; i < colon; i++) {
        const c = block.charCodeAt(i);
        if (c >= 128 || TOKEN[c] === 0) throw this.fail(`an invalid header field name ${JSON.stringify(block.slice(pos, colon))}`);
        hash = step(hash, c);
      }
      let vs = colon + 1;
      let ve = eol;
      while (vs < ve && (block.charCodeAt(vs) === 0x20 || block.charCodeAt(vs) === 0x09)) vs++;
      while (ve > vs && (block.charCodeAt(ve - 1) === 0x20 || block.charCodeAt(ve - 1) === 0x09)) ve--;
      for (let i = vs; i < ve; i++) {
        const c = block.charCodeAt(i);
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw this.fail(`a control character in header ${JSON.stringify(block.slice(pos, colon))}`);
      }
      const name = find(block, pos, colon, hash) ?? block.slice(pos, colon).toLowerCase();
      // A plain object keyed by field name would take `__proto__` as its prototype, not as a field.
      if (name === '__proto__') throw this.fail('a header field named __proto__, which weft cannot carry');
      const value = block.slice(vs, ve);
      if (framing !== undefined) this.#framingField(name, value, framing);
      const prev = headers[name];
      if (prev === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
      else if (Array.isArray(prev)) prev.push(value);
      else headers[name] = [prev, value];
      pos = eol + 2;
    }
    // Identical Content-Length values are one (RFC 9110 §8.6): forwarded once, as a number.
    if (framing?.contentLengthRepeated === true) headers['content-length'] = String(framing.contentLength);
    return { headers, count };
  }

  #framingField(name: string, value: string, f: Framing): void {
    switch (name) {
      case 'content-length': {
        // "5" or a list of identical values ("5, 5", RFC 9110 §8.6).
        let n = contentLengthValue(value);
        if (n < 0) {
          f.contentLengthRepeated = true;
          for (const part of value.split(',')) {
            const v = part.trim();
            if (!/^\d{1,15}$/.test(v)) throw this.fail(`an invalid content-length ${JSON.stringify(value)}`);
            const parsed = Number(v);
            if (n >= 0 && parsed !== n) throw this.fail(`conflicting content-length values ${JSON.stringify(value)}`);
            n = parsed;
          }
        }
        if (f.contentLength >= 0) {
          if (f.contentLength !== n) throw this.fail('conflicting content-length headers');
          f.contentLengthRepeated = true;
        }
        f.contentLength = n;
        return;
      }
      case 'transfer-encoding': {
        const codings = value.toLowerCase().split(',');
        // Chunked only as the final coding (RFC 9112 §6.3): a later field replaces what an earlier one said.
        f.chunked = codings[codings.length - 1]!.trim() === 'chunked';
        f.onlyChunked = !f.transferEncoding && codings.length === 1 && f.chunked;
        f.transferEncoding = true;
        return;
      }
      case 'keep-alive': {
        // Node's servers send "timeout=5" on every response: that form is read without a regex.
        const plain = plainTimeout(value);
        if (plain >= 0) {
          f.idleHintS = plain;
          return;
        }
        const m = /(?:^|[\s,])timeout\s*=\s*(\d{1,9})/i.exec(value);
        if (m !== null) f.idleHintS = Number(m[1]);
        return;
      }
      case 'connection':
        if (value.length === 10 && value.toLowerCase() === 'keep-alive') f.keepAlive = true;
        else if (value.length === 5 && value.toLowerCase() === 'close') f.close = true;
        else {
          for (const part of value.toLowerCase().split(',')) {
            const t = part.trim();
            if (t === 'close') f.close = true;
            else if (t === 'keep-alive') f.keepAlive = true;
            else if (t === 'upgrade') f.upgradeToken = true;
          }
        }
        return;
      case 'host':
        f.hosts++;
        return;
      case 'expect':
        if (value.length === 12 && value.toLowerCase() === '100-continue') f.expectContinue = true;
        return;
      default:
    }
  }

  /** Reads "hex[;ext]\r\n"; returns the offset after it, or -1 when the line is incomplete (kept). */
  #readChunkSize(buf: Buffer, pos: number): number {
    const span = this.#span(buf, pos, LF, MAX_CHUNK_LINE, 'a chunk-size line', 400);
    if (span === undefined) return -1;
    const { block: line, from, at: lf } = span;
    if (lf === from || line[lf - 1] !== 0x0d) throw this.fail('a chunk-size line not ended by CRLF');
    let size = 0;
    let i = from;
    for (; i < lf - 1; i++) {
      const v = hexValue(line[i]!);
      if (v < 0) break;
      if (i - from >= 13) throw this.fail('a chunk size that is too large');
      size = size * 16 + v;
    }
    if (i === from) throw this.fail('a chunk without a size');
    // Only extensions (";name[=value]") may follow the size, with whitespace before the ";" (BWS, RFC
    // 9112 §7.1.1) but not on its own: "5 " is no chunk size.
    const digitsEnd = i;
    while (i < lf - 1 && (line[i] === 0x20 || line[i] === 0x09)) i++;
    if (i < lf - 1 ? line[i] !== 0x3b : i !== digitsEnd) throw this.fail('an invalid chunk size');
    for (; i < lf - 1; i++) {
      const c = line[i]!;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw this.fail('a control character in a chunk extension');
    }
    if (size === 0) {
      // The trailer section is read up to CRLFCRLF; starting it with the last-chunk line's own CRLF
      // makes an empty one ("\r\n") end the same way.
      this.state = State.Trailers;
      this.#partial = CRLF;
    } else {
      this.state = State.ChunkData;
      this.#remaining = size;
    }
    return span.next;
  }
}
