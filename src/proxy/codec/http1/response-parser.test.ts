import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { HttpParseError, ResponseParser, type ResponseSink } from './response-parser.ts';
import { rng, splitAt } from './fixtures.ts';

interface Seen {
  status?: number;
  statusText?: string;
  headers?: IncomingHttpHeaders;
  body: Buffer[];
  trailers?: IncomingHttpHeaders;
}

class Recorder implements ResponseSink {
  readonly seen: Seen = { body: [] };
  /** onBody returns false for the first `pauses` chunks. */
  pauses = 0;
  onHead(status: number, headers: IncomingHttpHeaders, statusText: string): boolean {
    Object.assign(this.seen, { status, headers, statusText });
    return true;
  }
  onBody(chunk: Buffer): boolean {
    this.seen.body.push(Buffer.from(chunk));
    return this.pauses-- <= 0;
  }
  onEnd(trailers: IncomingHttpHeaders): void {
    this.seen.trailers = trailers;
  }
}

/** Feeds `wire` split at `cuts`, resuming after every stop; returns what the sink saw and the bytes left over. */
function parse(wire: string | Buffer, cuts: number[] = [], opts: { head?: boolean; upgrade?: boolean; pauses?: number } = {}): Seen & { rest: Buffer; parser: ResponseParser } {
  const bytes = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  const parser = new ResponseParser();
  const sink = new Recorder();
  sink.pauses = opts.pauses ?? 0;
  parser.expect(sink, opts.head === true, opts.upgrade === true);
  const pieces = splitAt(bytes, cuts);
  let rest = Buffer.alloc(0);
  for (const piece of pieces) {
    let pos = 0;
    while (pos < piece.length) {
      const next = parser.execute(piece, pos);
      if (next === pos && (!parser.busy || parser.upgraded)) break;
      pos = next;
      if (!parser.busy || parser.upgraded) break;
    }
    if (pos < piece.length) rest = Buffer.concat([rest, piece.subarray(pos)]);
  }
  return { ...sink.seen, rest, parser };
}


function rejects(wire: string, pattern: RegExp, opts: { upgrade?: boolean } = {}): void {
  assert.throws(() => parse(wire, [], opts), (err: unknown) => err instanceof HttpParseError && pattern.test(err.message));
}

describe('HTTP/1.1 response parser', () => {
  it('reads a content-length response with its status, reason and fields', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a=1\r\n\r\nhello');
    assert.equal(r.status, 200);
    assert.equal(r.statusText, 'OK');
    assert.deepEqual(r.headers, { 'content-length': '5', 'x-a': ['1', '2'], 'set-cookie': ['a=1'] });
    assert.equal(Buffer.concat(r.body).toString(), 'hello');
    assert.deepEqual(r.trailers, {});
    assert.equal(r.parser.keepAlive, true);
    assert.equal(r.parser.busy, false);
  });

  it('reads chunked bodies with extensions and trailers', () => {
    const r = parse('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;name=v\r\nhello\r\nA\r\n, world!!!\r\n0\r\ngrpc-status: 0\r\nx-t: a\r\n\r\n');
    assert.equal(Buffer.concat(r.body).toString(), 'hello, world!!!');
    assert.deepEqual(r.trailers, { 'grpc-status': '0', 'x-t': 'a' });
    assert.equal(r.parser.keepAlive, true);
  });

  it('gives the same response however the bytes are split (property: 300 random splits of each shape)', () => {
    const rand = rng(0x5eed);
    const body = Buffer.from(Array.from({ length: 700 }, (_, i) => String.fromCharCode(32 + (i % 90))).join(''), 'latin1');
    const chunked = (sizes: number[]): string => {
      let out = '';
      let at = 0;
      for (const n of sizes) {
        out += `${n.toString(16)}\r\n${body.subarray(at, at + n).toString('latin1')}\r\n`;
        at += n;
      }
      return `${out}0\r\nx-trailer: yes\r\n\r\n`;
    };
    const shapes = [
      `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\nx-h: v\r\n\r\n${body.toString('latin1')}`,
      `HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n${chunked([1, 99, 300, 300])}`,
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunked([700]).replace('x-trailer: yes\r\n', '')}`,
    ];
    for (const wire of shapes) {
      const whole = parse(wire);
      for (let i = 0; i < 300; i++) {
        const cuts = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => 1 + Math.floor(rand() * (wire.length - 1)));
        const r = parse(wire, cuts, { pauses: Math.floor(rand() * 3) });
        assert.equal(r.status, whole.status, `cuts ${cuts}`);
        assert.deepEqual(r.headers, whole.headers, `cuts ${cuts}`);
        assert.deepEqual(Buffer.concat(r.body), body, `cuts ${cuts}`);
        assert.deepEqual(r.trailers, whole.trailers, `cuts ${cuts}`);
        assert.equal(r.rest.length, 0);
      }
    }
  });

  it('stops where the sink pauses and goes on from that offset', () => {
    const parser = new ResponseParser();
    const sink = new Recorder();
    sink.pauses = 1;
    parser.expect(sink, false, false);
    const wire = Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n');
    const stop = parser.execute(wire, 0);
    assert.ok(stop < wire.length);
    assert.equal(Buffer.concat(sink.seen.body).toString(), 'abc');
    assert.equal(sink.seen.trailers, undefined);
    assert.equal(parser.execute(wire, stop), wire.length);
    assert.equal(Buffer.concat(sink.seen.body).toString(), 'abcdef');
    assert.deepEqual(sink.seen.trailers, {});
  });

  it('knows responses without a body: HEAD, 204, 304 (whatever content-length says)', () => {
    const head = parse('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n', [], { head: true });
    assert.deepEqual(head.trailers, {});
    assert.equal(head.body.length, 0);
    for (const status of [204, 304]) {
      const r = parse(`HTTP/1.1 ${status} X\r\ncontent-length: 3\r\n\r\n`);
      assert.equal(r.status, status);
      assert.deepEqual(r.trailers, {});
    }
  });

  it('leaves bytes after a complete response to the caller', () => {
    const r = parse('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA');
    assert.equal(Buffer.concat(r.body).toString(), 'ok');
    assert.equal(r.rest.toString(), 'EXTRA');
  });

  it('reads a body without length until the connection closes, and never reuses that connection', () => {
    const parser = new ResponseParser();
    const sink = new Recorder();
    parser.expect(sink, false, false);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome'), 0);
    parser.execute(Buffer.from(' more'), 0);
    assert.equal(parser.readsUntilClose, true);
    assert.equal(sink.seen.trailers, undefined);
    parser.finish();
    assert.equal(Buffer.concat(sink.seen.body).toString(), 'some more');
    assert.deepEqual(sink.seen.trailers, {});
    assert.equal(parser.keepAlive, false);
    // A transfer coding other than chunked also runs to the close.
    assert.equal(parse('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nxx').parser.readsUntilClose, true);
  });

  it('reuse: HTTP/1.1 unless "connection: close"; HTTP/1.0 only with "connection: keep-alive"', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n').parser.keepAlive, false);
    assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\ncontent-length: 0\r\n\r\n').parser.keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n').parser.keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n').parser.keepAlive, true);
    assert.equal(parse('HTTP/1.1 200 OK\r\nKeep-Alive: max=10, timeout=5\r\ncontent-length: 0\r\n\r\n').parser.idleHintS, 5);
    assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n').parser.idleHintS, -1);
    assert.equal(parse('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=15\r\ncontent-length: 0\r\n\r\n').parser.idleHintS, 15);
    assert.equal(parse('HTTP/1.1 200 OK\r\nKeep-Alive: TIMEOUT = 7\r\ncontent-length: 0\r\n\r\n').parser.idleHintS, 7);
    assert.equal(parse('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5x\r\ncontent-length: 0\r\n\r\n').parser.idleHintS, 5);
    assert.equal(parse('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=\r\ncontent-length: 0\r\n\r\n').parser.idleHintS, -1);
  });

  it('stops at a 101 to an upgrade request, leaving the tunnel bytes', () => {
    const r = parse('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n\x81\x02hi', [], { upgrade: true });
    assert.equal(r.status, 101);
    assert.equal(r.parser.upgraded, true);
    assert.equal(r.rest.toString('latin1'), '\x81\x02hi');
    rejects('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n', /asked for no upgrade/);
  });

  it('accepts repeated identical content-lengths, as RFC 9110 allows', () => {
    assert.equal(Buffer.concat(parse('HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\ncontent-length: 2\r\n\r\nok').body).toString(), 'ok');
  });

  it('refuses what could desynchronise the connection, naming the problem', () => {
    rejects('HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n', /both content-length and transfer-encoding/);
    rejects('HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n', /conflicting content-length/);
    rejects('HTTP/1.1 200 OK\r\ncontent-length: 3, 4\r\n\r\n', /conflicting content-length/);
    rejects('HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', /invalid content-length/);
    rejects('HTTP/1.1 200 OK\r\ncontent-length: 0x10\r\n\r\n', /invalid content-length/);
    rejects('HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n', /folded header line/);
    rejects('HTTP/1.1 200 OK\r\nx-a : 1\r\n\r\n', /invalid header field name/);
    rejects('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', /without a field name and colon/);
    rejects('HTTP/1.1 200 OK\r\nx-a: 1\nx-b: 2\r\n\r\n', /response head with a line ended by a bare LF/);
    rejects('HTTP/1.1 200 OK\r\nx-a: a\x00b\r\n\r\n', /control character in header "x-a"/);
    rejects('HTTP/2 200 OK\r\n\r\n', /malformed status line/);
    rejects('HTTP/1.1 20 OK\r\n\r\n', /malformed status line/);
    rejects('HTTP/1.1 200OK\r\n\r\n', /malformed status line/);
    // A bare LF or CR ending the status line: the "reason" would run into the next line (found by the differential test with llhttp).
    rejects('HTTP/1.1 204 No Content\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', /response head with a line ended by a bare LF/);
    rejects('HTTP/1.1 503 x\rcontent-length: 0\r\n\r\n', /control character in the status line/);
    rejects('HTTP/1.1 204 No Content\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n', /both content-length and transfer-encoding/);
    rejects('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /chunk without a size/);
    rejects('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3x\r\nabc\r\n', /invalid chunk size/);
    rejects('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\nabc\r\n', /not ended by CRLF/);
    rejects('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcd\r\n', /chunk not followed by CRLF/);
    rejects('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffff\r\n', /chunk size that is too large/);
  });

  it('refuses a head whose lines end in a bare LF at once (the upstream would otherwise be waited on forever)', () => {
    rejects('HTTP/1.1 200 OK\nContent-Length: 2\n\nhi', /response head with a line ended by a bare LF/);
    rejects('HTTP/1.1 200 OK\r\nContent-Length: 2\n\nhi', /response head with a line ended by a bare LF/);
    rejects('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\nx-t: 1\n\n', /trailers with a line ended by a bare LF/);
  });

  it('limits the head to 60 KiB and 100 fields', () => {
    rejects(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(61 * 1024)}\r\n\r\n`, /response head over 61440 bytes/);
    const parser = new ResponseParser();
    parser.expect(new Recorder(), false, false);
    assert.throws(() => parser.execute(Buffer.from(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(61 * 1024)}`), 0), /response head over/, 'also before the head is complete');
    const many = Array.from({ length: 101 }, (_, i) => `x-${i}: v\r\n`).join('');
    rejects(`HTTP/1.1 200 OK\r\n${many}\r\n`, /more than 100 header fields/);
  });

  it('a connection that closes mid-response is an error; between responses it is not', () => {
    const parser = new ResponseParser();
    parser.expect(new Recorder(), false, false);
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'), 0);
    assert.throws(() => parser.finish(), /before the response body was complete/);
    const idle = new ResponseParser();
    idle.finish();
  });
});
