/**
 * weft's HTTP/1.1 request parser under generated input: streams of one to three pipelined requests,
 * mostly well-formed, with the mutations request smuggling is made of (duplicate and malformed
 * Content-Length, Transfer-Encoding variants, both together, bad chunk sizes and chunk ends, bare CR or
 * LF line ends, obs-fold, whitespace before the colon, control characters, bad versions).
 * - The parser throws nothing but `HttpParseError`, however the bytes are split over reads, and reads
 *   the same requests whatever the split.
 * - Differential, against llhttp (Node's parser, strict as node:http runs it; llhttp-oracle.ts): where
 *   both read a request, they read the same method, target and body, so a proxy in front of or behind
 *   a Node server never sees a different message boundary than weft (a desync is how smuggling
 *   works); and weft never accepts a request llhttp refuses, except for the differences listed in
 *   `ALLOWED_LENIENCY`. weft refusing what llhttp accepts (a missing Host, say) is allowed: it is the
 *   safe side.
 * `WEFT_FUZZ_RUNS` sets the number of streams (CI: 400).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpParseError, RequestParser } from './request-parser.ts';
import { isToken } from './message-parser.ts';
import { splitAt } from './fixtures.ts';
import type { OracleMessage, OracleOutcome } from './llhttp-oracle.ts';

const RUNS = Number(process.env['WEFT_FUZZ_RUNS'] ?? 400);
const LIMITS = { maxHeadBytes: 60 * 1024, maxFields: 100 };

// ---- generated requests ----

/** Mostly `valid`, now and then one of `bad`: most requests carry no mutation or one, so most are readable. */
function mostly<T>(valid: T, ...bad: T[]): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: fc.constant(valid), weight: 24 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
}

const EOL = mostly('\r\n', '\n', '\r', '\r\r\n', '\n\r');
const METHOD = fc.oneof({ arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'), weight: 24 }, { arbitrary: fc.constantFrom('G ET', 'GE\0T', 'P(ST', 'POST\t', 'get'), weight: 1 });
const TARGET = fc.oneof({ arbitrary: fc.constantFrom('/', '/a?b=c', '/p%20q', 'http://h.example/x'), weight: 24 }, { arbitrary: fc.constantFrom('/a b', '/\x7f', '/\x01', '/x\ty', '*', ''), weight: 1 });
const VERSION = mostly('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 ', 'HTTP/11', 'HTTP/1.1\0', 'HTTP/1.01');
const SEP = mostly(': ', ':', ':\t', ' : ', ':  ', '\t:', ': \t');
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

const RARELY = mostly(false, true);

const REQUEST = fc.record({
  method: METHOD,
  target: TARGET,
  version: VERSION,
  eol: fc.array(EOL, { minLength: 8, maxLength: 8 }),
  hosts: mostly(1, 0, 2),
  hostSep: SEP,
  clName: CL_NAME,
  clSep: SEP,
  clValue: CL_VALUE,
  teName: TE_NAME,
  teSep: TE_VALUE.map(() => ': '),
  teValue: TE_VALUE,
  /** Framing headers beside the body's own: CL on a chunked body, TE on a sized one, a second copy. */
  extraCl: RARELY,
  extraTe: RARELY,
  noFraming: RARELY,
  other: fc.array(fc.tuple(OTHER, SEP), { maxLength: 2 }),
  fold: RARELY,
  body: fc.oneof(
    fc.record({ kind: fc.constant('raw' as const), text: fc.constantFrom('', 'abc', 'hello world', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n') }),
    fc.record({ kind: fc.constant('chunked' as const), chunks: fc.array(CHUNK, { maxLength: 3 }), last: mostly('0\r\n\r\n', '0\r\nX-T: 1\r\n\r\n', '0\r\n', '0;e\r\n\r\n', '00\r\n\r\n', '0\r\n\n', '', '0\r\nX-T : 1\r\n\r\n') }),
  ),
});

type Generated = typeof REQUEST extends fc.Arbitrary<infer T> ? T : never;

function chunkText(c: Chunk): string {
  const hex = c.data.length.toString(16);
  const size = c.size.replace('HEX', hex.toUpperCase()).replace('hex', hex);
  return `${size}\r\n${c.data}${c.end}`;
}

function render(r: Generated): string {
  const eol = (i: number) => r.eol[i]!;
  const chunked = r.body.kind === 'chunked';
  const body = r.body.kind === 'raw' ? r.body.text : `${r.body.chunks.map(chunkText).join('')}${r.body.last}`;
  const length = Buffer.byteLength(body, 'latin1');
  let head = `${r.method} ${r.target} ${r.version}${eol(0)}`;
  for (let i = 0; i < r.hosts; i++) head += `Host${r.hostSep}h${i}.example${eol(1)}`;
  const cl = `${r.clName}${r.clSep}${r.clValue.replace('exact+1', String(length + 1)).replaceAll('exact', String(length))}${eol(2)}`;
  const te = `${r.teName}${r.teSep}${r.teValue}${eol(3)}`;
  if (!r.noFraming) head += chunked ? te : length > 0 ? cl : '';
  if (r.extraCl) head += cl;
  if (r.extraTe) head += te;
  for (const [[name, value], sep] of r.other) head += `${name}${sep}${value}${eol(6)}`;
  if (r.fold) head += ` folded${eol(6)}`;
  return `${head}${eol(7)}${body}`;
}

const STREAM = fc.array(REQUEST, { minLength: 1, maxLength: 3 }).map((rs) => Buffer.from(rs.map(render).join(''), 'latin1'));

// ---- reading them ----

interface Outcome {
  messages: OracleMessage[];
  /** What weft refused the stream with (its message), if it did. */
  error?: string;
}

/** weft's reading of `bytes` delivered in `pieces`, driven as the connection drives it. */
function weft(pieces: readonly Buffer[]): Outcome {
  const messages: OracleMessage[] = [];
  let body: Buffer[] = [];
  const parser = new RequestParser({
    onRequest: (p) => {
      body = [];
      messages.push({ method: p.method, target: p.target, body: '', complete: false, tunnel: p.connect || p.upgrade !== undefined });
      return true;
    },
    onBody: (chunk) => {
      body.push(Buffer.from(chunk));
      messages.at(-1)!.body = Buffer.concat(body).toString('base64');
      return true;
    },
    onEnd: () => {
      messages.at(-1)!.complete = true;
    },
  }, LIMITS);
  /** The last request ended and was not keep-alive: the connection closes after its response (H1Connection). */
  const over = () => !parser.busy && messages.at(-1)?.complete === true && !parser.keepAlive;
  try {
    for (const piece of pieces) {
      // The parser keeps what it needs of a split head or chunk line itself: each read is taken whole
      // unless a request ended (the next one starts) or a tunnel began.
      let pos = 0;
      for (let guard = 0; pos < piece.length; guard++) {
        assert.ok(guard < 10_000, 'the parser makes no progress');
        if (parser.upgraded || over()) return { messages };
        if (!parser.busy) parser.next();
        pos = parser.execute(piece, pos);
      }
    }
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    return { messages, error: err.message };
  }
  return { messages };
}

function llhttp(streams: readonly Buffer[]): OracleOutcome[] {
  const out = execFileSync(process.execPath, ['--expose-internals', '--no-warnings', join(import.meta.dirname, 'llhttp-oracle.ts')], {
    input: JSON.stringify(streams.map((s) => s.toString('base64'))),
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(out.toString()) as OracleOutcome[];
}

/**
 * Where weft reads a request llhttp refuses, on purpose: each is RFC 9112's grammar where llhttp's strict
 * mode is narrower, and none changes where a message ends (weft re-frames what it forwards).
 */
const ALLOWED_LENIENCY: readonly { readonly why: string; readonly test: (llhttpError: string, m: OracleMessage, bytes: string) => boolean }[] = [
  // llhttp knows a fixed list of methods; RFC 9110 §9.1 makes any token one (Envoy forwards them).
  { why: 'an extension method', test: (e, m) => e === 'HPE_INVALID_METHOD' && isToken(m.method) },
  // RFC 9110 §8.6: identical Content-Length values, repeated or listed, may be taken as one (weft forwards one).
  { why: 'repeated identical Content-Length', test: (e) => e === 'HPE_UNEXPECTED_CONTENT_LENGTH' },
  { why: 'a list of identical Content-Length values', test: (e, _m, bytes) => e === 'HPE_INVALID_CONTENT_LENGTH' && /content-length:[ \t]*(\d+)[ \t]*,[ \t]*\1[ \t]*\r\n/i.test(bytes) },
  // RFC 9110 §5.5: optional whitespace (SP or HTAB) around a field value is not part of it.
  { why: 'a tab around the Transfer-Encoding value', test: (e, _m, bytes) => e === 'HPE_INVALID_TRANSFER_ENCODING' && /transfer-encoding:[ \t]*chunked[ \t]*\r\n/i.test(bytes) },
  // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
  { why: 'whitespace before a chunk extension', test: (e, _m, bytes) => e === 'HPE_INVALID_CHUNK_SIZE' && /\r\n[0-9a-fA-F]+[ \t]+;/.test(bytes) },
];

const show = (b: Buffer) => JSON.stringify(b.toString('latin1'));
const describeMessage = (m: OracleMessage) => `${m.method} ${m.target} body=${JSON.stringify(Buffer.from(m.body, 'base64').toString('latin1'))} complete=${m.complete} tunnel=${m.tunnel}`;

describe('HTTP/1.1 request parser, generated input', () => {
  it('throws only HttpParseError and reads the same requests however the bytes are split', () => {
    fc.assert(fc.property(STREAM, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const whole = weft([bytes]);
      const split = weft(splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))));
      assert.deepEqual(split, whole, `stream ${show(bytes)}`);
    }), { numRuns: RUNS });
  });

  it('reads what llhttp reads, with the same message boundaries, and refuses what it refuses', () => {
    const streams = fc.sample(STREAM, { numRuns: RUNS, seed: Number(process.env['WEFT_FUZZ_SEED'] ?? 4242) });
    // llhttp refuses bytes after a request that closes the connection; weft never reads them.
    const theirs = llhttp(streams).map((o) => (o.error === 'HPE_CLOSED_CONNECTION' ? { messages: o.messages } : o));
    const problems: string[] = [];
    let bothRead = 0;
    let weftStricter = 0;
    for (const [i, bytes] of streams.entries()) {
      const ours = weft([bytes]);
      const other = theirs[i]!;
      const n = Math.min(ours.messages.length, other.messages.length);
      let k = 0;
      for (; k < n; k++) {
        const a = ours.messages[k]!;
        const b = other.messages[k]!;
        if (!a.complete || !b.complete) break;
        bothRead++;
        if (a.method !== b.method || a.target !== b.target || a.body !== b.body) {
          problems.push(`different request ${k}: weft ${describeMessage(a)}; llhttp ${describeMessage(b)} in ${show(bytes)}`);
          break;
        }
        if (a.tunnel || b.tunnel) break;
      }
      const oursDone = ours.messages.filter((m) => m.complete).length;
      const theirsDone = other.messages.filter((m) => m.complete).length;
      if (oursDone > theirsDone && other.error !== undefined && !ours.messages.some((m) => m.tunnel)) {
        const extra = ours.messages[theirsDone]!;
        if (!ALLOWED_LENIENCY.some((l) => l.test(other.error!, extra, bytes.toString('latin1')))) {
          problems.push(`weft read ${describeMessage(extra)} where llhttp refused (${other.error}) in ${show(bytes)}`);
        }
      }
      if (theirsDone > oursDone && ours.error !== undefined) weftStricter++;
    }
    assert.ok(bothRead > RUNS / 4, `too few requests both parsers read (${bothRead}): the generator makes too much noise`);
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} differences (weft stricter than llhttp in ${weftStricter} streams, allowed)`);
  });
});
