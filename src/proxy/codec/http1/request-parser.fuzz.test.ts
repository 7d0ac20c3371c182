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
 * `FUZZ_RUNS` sets the number of streams (2000 by default: a fraction of a second).
 */
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RequestParser } from './request-parser.ts';
import { isToken } from '../token.ts';
import { assertLikeLlhttp, assertSplitInvariant, drive, EOL, MESSAGE_PARTS, mostly, Recording, renderMessage, RFC_LENIENCY, SEP, type Leniency, type Outcome } from './fuzz-messages.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);
const LIMITS = { maxHeadBytes: 60 * 1024, maxFields: 100 };

const METHOD = fc.oneof({ arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'), weight: 24 }, { arbitrary: fc.constantFrom('G ET', 'GE\0T', 'P(ST', 'POST\t', 'get'), weight: 1 });
const TARGET = fc.oneof({ arbitrary: fc.constantFrom('/', '/a?b=c', '/p%20q', 'http://h.example/x'), weight: 24 }, { arbitrary: fc.constantFrom('/a b', '/\x7f', '/\x01', '/x\ty', '*', ''), weight: 1 });
const VERSION = mostly('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 ', 'HTTP/11', 'HTTP/1.1\0', 'HTTP/1.01');

const REQUEST = fc.record({ method: METHOD, target: TARGET, version: VERSION, eol: EOL, hosts: mostly(1, 0, 2), hostSep: SEP, hostEol: EOL, parts: MESSAGE_PARTS })
  .map((r) => renderMessage(`${r.method} ${r.target} ${r.version}${r.eol}`, `Host${r.hostSep}h.example${r.hostEol}`.repeat(r.hosts), r.parts));

const STREAM = fc.array(REQUEST, { minLength: 1, maxLength: 3 }).map((rs) => Buffer.from(rs.join(''), 'latin1'));

/** weft's reading of the bytes delivered in `pieces`, driven as H1Connection drives it. */
function weft(pieces: readonly Buffer[]): Outcome {
  const r = new Recording();
  const parser = new RequestParser({
    onRequest: (p) => r.head({ method: p.method, target: p.target, status: 0, tunnel: p.connect || p.upgrade !== undefined }),
    onBody: (chunk) => r.body(chunk),
    onEnd: () => r.end(),
  }, LIMITS, { http10: { accept: true }, absoluteUrls: false });
  return drive(r, pieces, (piece, pos) => {
    // After a tunnel's head, or a request that was not keep-alive (the connection closes after its response), nothing more is read.
    if (parser.upgraded || (!parser.busy && r.ended && !parser.keepAlive)) return undefined;
    if (!parser.busy) parser.next();
    return parser.execute(piece, pos);
  });
}

/** Beside RFC_LENIENCY: llhttp knows a fixed list of methods; RFC 9110 §9.1 makes any token one (Envoy forwards them). */
const ALLOWED_LENIENCY: readonly Leniency[] = [
  ...RFC_LENIENCY,
  { why: 'an extension method', test: (e, m) => e === 'HPE_INVALID_METHOD' && isToken(m.method) },
];

describe('HTTP/1.1 request parser, generated input', () => {
  it('throws only HttpParseError and reads the same requests however the bytes are split', () => {
    assertSplitInvariant(STREAM, weft, RUNS);
  });

  it('reads what llhttp reads, with the same message boundaries, and refuses what it refuses', () => {
    assertLikeLlhttp('request', STREAM, weft, ALLOWED_LENIENCY, RUNS);
  });
});
