/**
 * weft's HTTP/1.1 response parser (upstream connections) under generated input: one or two responses
 * on a connection that then closes, mostly well-formed, with interim 100s, bodiless statuses, bodies
 * framed by Content-Length, chunks or the close, and the mutations of fuzz-messages.ts (framing fields,
 * chunk syntax, line ends, field syntax), plus bad status lines.
 * - The parser throws nothing but `HttpParseError`, however the bytes are split over reads, and reads
 *   the same responses whatever the split.
 * - Differential, against llhttp (strict, as node:http's client runs it): where both read a response,
 *   they read the same status and body (an upstream cannot make weft and a Node client disagree on where
 *   a response ends); weft never accepts a response llhttp refuses, except for `ALLOWED_LENIENCY`.
 * `FUZZ_RUNS` sets the number of streams (2000 by default: a fraction of a second).
 */
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ResponseParser } from './response-parser.ts';
import { assertLikeLlhttp, assertSplitInvariant, drive, EOL, MESSAGE_PARTS, mostly, Recording, renderMessage, RFC_LENIENCY, type Leniency, type Outcome } from './fuzz-messages.ts';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2000);

const STATUS = fc.oneof(
  { arbitrary: fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found', 'HTTP/1.1 200', 'HTTP/1.0 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified', 'HTTP/1.1 503 x y'), weight: 24 },
  { arbitrary: fc.constantFrom('HTTP/1.1 2000 OK', 'HTTP/1.1 20 OK', 'HTTP/1.1 099 X', 'HTTP/1.1 600 X', 'HTTP/2 200 OK', 'HTTP/1.1  200 OK', 'http/1.1 200 OK', 'HTTP/1.1 200 OK\0', 'HTTP/1.1 200 O\x7fK', 'HTTP/1.2 200 OK', 'HTTP/1.1 20x OK'), weight: 1 },
);

const RESPONSE = fc.record({ status: STATUS, eol: EOL, interim: mostly(false, true), parts: MESSAGE_PARTS })
  .map((r) => `${r.interim ? 'HTTP/1.1 100 Continue\r\n\r\n' : ''}${renderMessage(`${r.status}${r.eol}`, '', r.parts)}`);

const STREAM = fc.array(RESPONSE, { minLength: 1, maxLength: 2 }).map((rs) => Buffer.from(rs.join(''), 'latin1'));

/** weft's reading of the bytes delivered in `pieces`, then the connection's close, as H1Connection drives it. */
function weft(pieces: readonly Buffer[]): Outcome {
  const r = new Recording();
  const parser = new ResponseParser({ maxHeadBytes: 60 * 1024, maxFields: 100 });
  const sink = {
    onHead: (status: number) => r.head({ method: '', target: '', status, tunnel: status === 101 }),
    onBody: (chunk: Buffer) => r.body(chunk),
    onEnd: () => r.end(),
  };
  parser.expect(sink, false, false);
  return drive(r, pieces, (piece, pos) => {
    // A response that was not keep-alive ends the connection.
    if (!parser.busy && r.ended && !parser.keepAlive) return undefined;
    if (!parser.busy) parser.expect(sink, false, false);
    return parser.execute(piece, pos);
  }, () => parser.finish());
}

/** Beside RFC_LENIENCY: RFC 9112 §6.3, a response whose Transfer-Encoding does not end in chunked runs to the close. */
const ALLOWED_LENIENCY: readonly Leniency[] = [
  ...RFC_LENIENCY,
  { why: 'a Transfer-Encoding without chunked last, read to the close', test: (e, m) => e === 'HPE_INVALID_TRANSFER_ENCODING' && m.complete },
];

describe('HTTP/1.1 response parser, generated input', () => {
  it('throws only HttpParseError and reads the same responses however the bytes are split', () => {
    assertSplitInvariant(STREAM, weft, RUNS);
  });

  it('reads what llhttp reads, with the same message boundaries, and refuses what it refuses', () => {
    assertLikeLlhttp('response', STREAM, weft, ALLOWED_LENIENCY, RUNS);
  });
});
