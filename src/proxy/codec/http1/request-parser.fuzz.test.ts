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
 * `FUZZ_RUNS` sets the number of streams (CI: 400).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpParseError, RequestParser } from './request-parser.ts';
import { isToken } from './message-parser.ts';
import { splitAt } from './fixtures.ts';
import { compare, llhttp, MESSAGE_PARTS, mostly, renderMessage, EOL, SEP, type Leniency, type OracleMessage, type Outcome } from './fuzz-messages.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 400);
const LIMITS = { maxHeadBytes: 60 * 1024, maxFields: 100 };

const METHOD = fc.oneof({ arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'), weight: 24 }, { arbitrary: fc.constantFrom('G ET', 'GE\0T', 'P(ST', 'POST\t', 'get'), weight: 1 });
const TARGET = fc.oneof({ arbitrary: fc.constantFrom('/', '/a?b=c', '/p%20q', 'http://h.example/x'), weight: 24 }, { arbitrary: fc.constantFrom('/a b', '/\x7f', '/\x01', '/x\ty', '*', ''), weight: 1 });
const VERSION = mostly('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 ', 'HTTP/11', 'HTTP/1.1\0', 'HTTP/1.01');

const REQUEST = fc.record({ method: METHOD, target: TARGET, version: VERSION, eol: EOL, hosts: mostly(1, 0, 2), hostSep: SEP, hostEol: EOL, parts: MESSAGE_PARTS })
  .map((r) => renderMessage(`${r.method} ${r.target} ${r.version}${r.eol}`, `Host${r.hostSep}h.example${r.hostEol}`.repeat(r.hosts), r.parts));

const STREAM = fc.array(REQUEST, { minLength: 1, maxLength: 3 }).map((rs) => Buffer.from(rs.join(''), 'latin1'));

/** weft's reading of the bytes delivered in `pieces`, driven as H1Connection drives it. */
function weft(pieces: readonly Buffer[]): Outcome {
  const messages: OracleMessage[] = [];
  let body: Buffer[] = [];
  const parser = new RequestParser({
    onRequest: (p) => {
      body = [];
      messages.push({ method: p.method, target: p.target, status: 0, body: '', complete: false, tunnel: p.connect || p.upgrade !== undefined });
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
  /** The last request ended and was not keep-alive: the connection closes after its response. */
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

/**
 * Where weft reads a request llhttp refuses, on purpose: each is RFC 9112's grammar where llhttp's strict
 * mode is narrower, and none changes where a message ends (weft re-frames what it forwards).
 */
const ALLOWED_LENIENCY: readonly Leniency[] = [
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

describe('HTTP/1.1 request parser, generated input', () => {
  it('throws only HttpParseError and reads the same requests however the bytes are split', () => {
    fc.assert(fc.property(STREAM, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const whole = weft([bytes]);
      const split = weft(splitAt(bytes, cuts.map((c) => c % (bytes.length + 1))));
      assert.deepEqual(split, whole, `stream ${JSON.stringify(bytes.toString('latin1'))}`);
    }), { numRuns: RUNS });
  });

  it('reads what llhttp reads, with the same message boundaries, and refuses what it refuses', () => {
    const streams = fc.sample(STREAM, { numRuns: RUNS, seed: Number(process.env['FUZZ_SEED'] ?? 4242) });
    // llhttp refuses bytes after a request that closes the connection; weft never reads them.
    const theirs = llhttp('request', streams).map((o) => (o.error === 'HPE_CLOSED_CONNECTION' ? { messages: o.messages } : o));
    const { problems, bothRead, weftStricter } = compare(streams, (b) => weft([b]), theirs, ALLOWED_LENIENCY);
    assert.ok(bothRead > RUNS / 4, `too few requests both parsers read (${bothRead}): the generator makes too much noise`);
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} differences (weft stricter than llhttp in ${weftStricter} streams, allowed)`);
  });
});
