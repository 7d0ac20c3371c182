/**
 * Test support for the HTTP/1 parsers' generated-input tests (request-parser.fuzz.test.ts,
 * response-parser.fuzz.test.ts): messages that are mostly well-formed, with the mutations request
 * smuggling and response desync are made of, and the differential comparison with llhttp
 * (llhttp-oracle.ts). Not part of the proxy.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { splitAt } from './fixtures.ts';
import { HttpParseError } from './message-parser.ts';
import type { OracleKind, OracleMessage, OracleOutcome } from './llhttp-oracle.ts';

export type { OracleMessage } from './llhttp-oracle.ts';

/** Mostly `valid`, now and then one of `bad`: most messages carry no mutation or one, so most are readable. */
export function mostly<T>(valid: T, ...bad: T[]): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: fc.constant(valid), weight: 24 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
}

export const RARELY = mostly(false, true);
export const EOL = mostly('\r\n', '\n', '\r', '\r\r\n', '\n\r');
export const SEP = mostly(': ', ':', ':\t', ' : ', ':  ', '\t:', ': \t');
const CL_VALUE = mostly('exact', 'exact+1', '0', ' exact', 'exact ', '+exact', '-1', 'exact,exact', 'exact, 5', '0xexact', '', '18446744073709551617', 'exact\0', '1_0', '0exact');
const TE_VALUE = mostly('chunked', 'Chunked', 'CHUNKED', ' chunked', 'chunked ', 'gzip, chunked', 'chunked, gzip', 'identity', 'chunked,chunked', 'x', '', 'chunked\t', 'chunked\0', '\x0bchunked', 'chunked;q=1');
const CL_NAME = mostly('Content-Length', 'content-length', 'CONTENT-LENGTH', 'Content-Length ', 'Content_Length', ' Content-Length', 'Content-Length\0');
const TE_NAME = mostly('Transfer-Encoding', 'transfer-encoding', 'Transfer-Encoding ', 'Transfer_Encoding', ' Transfer-Encoding', 'Transfer-Encoding\x0b');
const OTHER = fc.oneof(
  { arbitrary: fc.constantFrom<[string, string]>(['X-A', 'v'], ['X-A', 'a b'], ['Connection', 'keep-alive'], ['Cookie', 'a=b; c=d'], ['X-B', 'é'], ['X-A', '']), weight: 12 },
  { arbitrary: fc.constantFrom<[string, string]>(['X-A', 'v\0'], ['X-A', 'v\x7f'], ['X-A', 'v\x0b'], ['X A', 'v'], ['X-A\0', 'v'], ['', 'v'], ['Connection', 'close']), weight: 1 },
);

interface Chunk {
  readonly data: string;
  readonly size: string;
  readonly end: string;
}

const CHUNK = fc.record({
  data: fc.constantFrom('a', 'hello', 'x'.repeat(17), '\r\n', '0\r\n\r\n'),
  size: mostly('hex', 'HEX', 'hex;ext=1', 'hex ;e', '0hex', '0xhex', ' hex', 'hex ', '-1', 'fffffffffffffffff', 'g', '', 'hex;e=\0'),
  end: mostly('\r\n', '', '\n', 'xx', '\r'),
});

/** A message after its start line: framing fields, other fields, the blank line and a body. */
export const MESSAGE_PARTS = fc.record({
  eol: fc.array(EOL, { minLength: 8, maxLength: 8 }),
  clName: CL_NAME,
  clSep: SEP,
  clValue: CL_VALUE,
  teName: TE_NAME,
  teValue: TE_VALUE,
  /** Framing fields beside the body's own: Content-Length on a chunked body, Transfer-Encoding on a sized one; none. */
  extraCl: RARELY,
  extraTe: RARELY,
  noFraming: RARELY,
  other: fc.array(fc.tuple(OTHER, SEP), { maxLength: 2 }),
  fold: RARELY,
  body: fc.oneof(
    fc.record({ kind: fc.constant('raw' as const), text: fc.constantFrom('', 'abc', 'hello world', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n') }),
    fc.record({ kind: fc.constant('chunked' as const), chunks: fc.array(CHUNK, { maxLength: 3 }), last: mostly('0\r\n\r\n', '0\r\nX-T: 1\r\n\r\n', '0\r\n', '0;e\r\n\r\n', '00\r\n\r\n', '0\r\n\n', '', '0\r\nX-T : 1\r\n\r\n') }),
  ),
});

export type MessageParts = typeof MESSAGE_PARTS extends fc.Arbitrary<infer T> ? T : never;

function chunkText(c: Chunk): string {
  const hex = c.data.length.toString(16);
  const size = c.size.replace('HEX', hex.toUpperCase()).replace('hex', hex);
  return `${size}\r\n${c.data}${c.end}`;
}

/** `startLine` (with its line end) and `fields` (lines of the caller's own: Host…) followed by `parts`. */
export function renderMessage(startLine: string, fields: string, p: MessageParts): string {
  const eol = (i: number) => p.eol[i]!;
  const chunked = p.body.kind === 'chunked';
  const body = p.body.kind === 'raw' ? p.body.text : `${p.body.chunks.map(chunkText).join('')}${p.body.last}`;
  const length = Buffer.byteLength(body, 'latin1');
  let head = startLine + fields;
  const cl = `${p.clName}${p.clSep}${p.clValue.replace('exact+1', String(length + 1)).replaceAll('exact', String(length))}${eol(2)}`;
  const te = `${p.teName}: ${p.teValue}${eol(3)}`;
  if (!p.noFraming) head += chunked ? te : length > 0 ? cl : '';
  if (p.extraCl) head += cl;
  if (p.extraTe) head += te;
  for (const [[name, value], sep] of p.other) head += `${name}${sep}${value}${eol(6)}`;
  if (p.fold) head += ` folded${eol(6)}`;
  return `${head}${eol(7)}${body}`;
}

/** How llhttp reads each stream (one child process for all). */
export function llhttp(kind: OracleKind, streams: readonly Buffer[]): OracleOutcome[] {
  const out = execFileSync(process.execPath, ['--expose-internals', '--no-warnings', join(import.meta.dirname, 'llhttp-oracle.ts')], {
    input: JSON.stringify({ kind, streams: streams.map((s) => s.toString('base64')) }),
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(out.toString()) as OracleOutcome[];
}

export interface Outcome {
  messages: OracleMessage[];
  /** What weft refused the stream with (its message), if it did. */
  error?: string;
}

/** What a weft parser reported, as the oracle reports llhttp's: its sink's callbacks fill `messages`. */
export class Recording {
  readonly messages: OracleMessage[] = [];
  #body: Buffer[] = [];

  head(m: Pick<OracleMessage, 'method' | 'target' | 'status' | 'tunnel'>): true {
    this.#body = [];
    this.messages.push({ ...m, body: '', complete: false });
    return true;
  }

  body(chunk: Buffer): true {
    this.#body.push(Buffer.from(chunk));
    this.messages.at(-1)!.body = Buffer.concat(this.#body).toString('base64');
    return true;
  }

  end(): void {
    this.messages.at(-1)!.complete = true;
  }

  /** The last message is complete. */
  get ended(): boolean {
    return this.messages.at(-1)?.complete === true;
  }
}

/**
 * Feeds `pieces` as successive reads: `step(piece, pos)` parses from `pos` and returns where it got,
 * or undefined when the connection reads no more; then `atClose` (the connection closed). A parse
 * error becomes the outcome's error; anything else thrown fails the test.
 */
export function drive(recording: Recording, pieces: readonly Buffer[], step: (piece: Buffer, pos: number) => number | undefined, atClose?: () => void): Outcome {
  try {
    for (const piece of pieces) {
      // A parser keeps what it needs of a split head or chunk line itself: each read is taken whole
      // unless a message ended (the next one starts) or the connection stops reading.
      let pos = 0;
      for (let guard = 0; pos < piece.length; guard++) {
        assert.ok(guard < 10_000, 'the parser makes no progress');
        const next = step(piece, pos);
        if (next === undefined) return { messages: recording.messages };
        pos = next;
      }
    }
    atClose?.();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    return { messages: recording.messages, error: err.message };
  }
  return { messages: recording.messages };
}

/**
 * A difference llhttp and weft may have on purpose: weft reads `m` where llhttp stopped with
 * `llhttpError`, or (`llhttpError` is `DIFFERENT`) where llhttp read the message otherwise.
 */
export interface Leniency {
  readonly why: string;
  readonly test: (llhttpError: string, m: OracleMessage, bytes: string) => boolean;
}

const show = (b: Buffer) => JSON.stringify(b.toString('latin1'));
const describeMessage = (m: OracleMessage) =>
  `${m.status > 0 ? m.status : `${m.method} ${m.target}`} body=${JSON.stringify(Buffer.from(m.body, 'base64').toString('latin1'))} complete=${m.complete} tunnel=${m.tunnel}`;

/**
 * Compares weft's reading of each stream with llhttp's. Problems: a message both read completely that
 * differs (start line or body: a different boundary), and a message weft read completely where llhttp
 * stopped with an error, unless a `Leniency` explains it. Where weft refuses what llhttp reads it is
 * stricter, which is allowed (counted).
 */
export function compare(streams: readonly Buffer[], ours: (bytes: Buffer) => Outcome, theirs: readonly OracleOutcome[], allowed: readonly Leniency[]): { problems: string[]; bothRead: number; weftStricter: number } {
  const problems: string[] = [];
  let bothRead = 0;
  let weftStricter = 0;
  for (const [i, bytes] of streams.entries()) {
    const a = ours(bytes);
    const b = theirs[i]!;
    const n = Math.min(a.messages.length, b.messages.length);
    for (let k = 0; k < n; k++) {
      const x = a.messages[k]!;
      const y = b.messages[k]!;
      if (!x.complete || !y.complete) break;
      bothRead++;
      if (x.method !== y.method || x.target !== y.target || x.status !== y.status || x.body !== y.body) {
        if (allowed.some((l) => l.test('DIFFERENT', x, bytes.toString('latin1')))) break;
        problems.push(`different message ${k}: weft ${describeMessage(x)}; llhttp ${describeMessage(y)} in ${show(bytes)}`);
        break;
      }
      if (x.tunnel || y.tunnel) break;
    }
    const oursDone = a.messages.filter((m) => m.complete).length;
    const theirsDone = b.messages.filter((m) => m.complete).length;
    if (oursDone > theirsDone && b.error !== undefined && !a.messages.some((m) => m.tunnel)) {
      const extra = a.messages[theirsDone]!;
      if (!allowed.some((l) => l.test(b.error!, extra, bytes.toString('latin1')))) {
        problems.push(`weft read ${describeMessage(extra)} where llhttp refused (${b.error}) in ${show(bytes)}`);
      }
    }
    if (theirsDone > oursDone && a.error !== undefined) weftStricter++;
  }
  return { problems, bothRead, weftStricter };
}

/**
 * Differences both parsers have with llhttp on purpose: RFC 9112's grammar where llhttp's strict mode is
 * narrower. None changes where a message ends (weft re-frames what it forwards).
 */
export const RFC_LENIENCY: readonly Leniency[] = [
  // RFC 9110 §8.6: identical Content-Length values, repeated or listed, may be taken as one (weft forwards one).
  { why: 'repeated identical Content-Length', test: (e) => e === 'HPE_UNEXPECTED_CONTENT_LENGTH' },
  { why: 'a list of identical Content-Length values', test: (e, _m, bytes) => e === 'HPE_INVALID_CONTENT_LENGTH' && /content-length:[ \t]*(\d+)[ \t]*,[ \t]*\1[ \t]*\r\n/i.test(bytes) },
  // RFC 9110 §5.5: optional whitespace (SP or HTAB) around a field value is not part of it. In a
  // response llhttp takes "chunked\t" for another coding and reads to the close; weft reads the chunks.
  { why: 'a tab around the Transfer-Encoding value', test: (e, _m, bytes) => (e === 'HPE_INVALID_TRANSFER_ENCODING' || e === 'DIFFERENT') && /transfer-encoding:[ \t]*chunked[ \t]+\r\n/i.test(bytes) },
  // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
  { why: 'whitespace before a chunk extension', test: (e, _m, bytes) => e === 'HPE_INVALID_CHUNK_SIZE' && /\r\n[0-9a-fA-F]+[ \t]+;/.test(bytes) },
];

/** Property: `read` (weft's parser driven over the pieces) gives the same outcome however `stream`'s bytes are split. */
export function assertSplitInvariant(stream: fc.Arbitrary<Buffer>, read: (pieces: readonly Buffer[]) => Outcome, runs: number): void {
  fc.assert(fc.property(stream, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
    const whole = read([bytes]);
    const split = read(splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))));
    assert.deepEqual(split, whole, `stream ${JSON.stringify(bytes.toString('latin1'))}`);
  }), { numRuns: runs });
}

/** The differential check (`compare`) over `runs` streams of `kind`; `FUZZ_SEED` picks another sample. */
export function assertLikeLlhttp(kind: OracleKind, stream: fc.Arbitrary<Buffer>, read: (pieces: readonly Buffer[]) => Outcome, allowed: readonly Leniency[], runs: number): void {
  const streams = fc.sample(stream, { numRuns: runs, seed: Number(process.env['FUZZ_SEED'] ?? 4242) });
  // llhttp refuses bytes after a message that closes the connection; weft never reads them.
  const theirs = llhttp(kind, streams).map((o) => (o.error === 'HPE_CLOSED_CONNECTION' ? { messages: o.messages } : o));
  const { problems, bothRead, weftStricter } = compare(streams, (b) => read([b]), theirs, allowed);
  assert.ok(bothRead > runs / 4, `too few ${kind}s both parsers read (${bothRead}): the generator makes too much noise`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} differences (weft stricter than llhttp in ${weftStricter} streams, allowed)`);
}
