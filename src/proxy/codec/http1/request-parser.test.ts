import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeaderMap } from '../../http/headers.ts';
import { HttpParseError, RequestParser, type RequestOptions, type RequestSink } from './request-parser.ts';
import { rng, splitAt } from './fixtures.ts';

/** A listener that takes HTTP/1.0 and proxy (absolute-form) requests. */
const ACCEPT_ALL: RequestOptions = { http10: { accept: true }, absoluteUrls: true };

interface Seen {
  method: string;
  target: string;
  http10: boolean;
  headers: HeaderMap;
  keepAlive: boolean;
  upgrade: string | undefined;
  connect: boolean;
  expectContinue: boolean;
  hasBody: boolean;
  body: Buffer[];
  ended: boolean;
}

class Recorder implements RequestSink {
  readonly requests: Seen[] = [];
  /** onBody returns false for the first `pauses` chunks. */
  pauses = 0;
  onRequest(p: RequestParser): boolean {
    const { method, target, http10, headers, keepAlive, upgrade, connect, expectContinue, hasBody } = p;
    this.requests.push({ method, target, http10, headers, keepAlive, upgrade, connect, expectContinue, hasBody, body: [], ended: false });
    return true;
  }
  onBody(chunk: Buffer): boolean {
    this.requests.at(-1)!.body.push(Buffer.from(chunk));
    return this.pauses-- <= 0;
  }
  onEnd(): void {
    this.requests.at(-1)!.ended = true;
  }
}

/**
 * Feeds `wire` split at `cuts` the way the connection does: resume after every stop, and start the next
 * request once one ended. Returns what the sink saw and the bytes left after an upgrade or CONNECT.
 */
function parse(wire: string, cuts: number[] = [], pauses = 0): { requests: Seen[]; rest: Buffer } {
  const bytes = Buffer.from(wire, 'latin1');
  const sink = new Recorder();
  sink.pauses = pauses;
  const parser = new RequestParser(sink, { maxHeadBytes: 8192, maxFields: 100 }, ACCEPT_ALL);
  const pieces = splitAt(bytes, cuts);
  let rest = Buffer.alloc(0);
  for (const piece of pieces) {
    let pos = 0;
    while (pos < piece.length) {
      if (parser.upgraded) break;
      if (!parser.busy) parser.next();
      pos = parser.execute(piece, pos);
    }
    if (pos < piece.length) rest = Buffer.concat([rest, piece.subarray(pos)]);
  }
  return { requests: sink.requests, rest };
}

function rejects(wire: string, pattern: RegExp, status = 400): void {
  assert.throws(() => parse(wire), (err: unknown) => err instanceof HttpParseError && pattern.test(err.message) && err.status === status);
}


describe('HTTP/1.1 request parser', () => {
  it('reads pipelined requests in order: bodiless, content-length, chunked with trailers, HTTP/1.0', () => {
    const { requests } = parse(
      'GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n' +
      'POST /b HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\nhello' +
      'PUT /c HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n3;ext=1\r\nabc\r\n0\r\nx-t: 1\r\n\r\n' +
      'GET /d HTTP/1.0\r\nconnection: keep-alive\r\n\r\n',
    );
    assert.deepEqual(requests.map((r) => `${r.method} ${r.target} ${r.hasBody} ${Buffer.concat(r.body).toString()} ${r.ended} ${r.keepAlive}`), [
      'GET /a?x=1 false  true true',
      'POST /b true hello true true',
      'PUT /c true abc true false',
      'GET /d false  true true',
    ]);
    assert.deepEqual(requests[0]!.headers, { host: 'h', 'x-a': ['1', '2'] });
    assert.equal(requests[1]!.expectContinue, true);
    assert.equal(requests[3]!.http10, true);
  });

  it('refuses HTTP/1.0 with 426 when told not to accept it, and gives a Host-less one the default host', () => {
    const refuse = new RequestParser(new Recorder(), { maxHeadBytes: 8192, maxFields: 100 }, { ...ACCEPT_ALL, http10: { accept: false } });
    assert.throws(() => refuse.execute(Buffer.from('GET / HTTP/1.0\r\n\r\n'), 0), (err: unknown) => err instanceof HttpParseError && err.status === 426 && /accept_http_10/.test(err.message));
    const sink = new Recorder();
    const fallback = new RequestParser(sink, { maxHeadBytes: 8192, maxFields: 100 }, { ...ACCEPT_ALL, http10: { accept: true, defaultHost: 'fallback.example' } });
    fallback.execute(Buffer.from('GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nHost: own\r\n\r\n'), 0);
    assert.equal(sink.requests[0]!.headers['host'], 'fallback.example');
  });

  it('refuses a target that is neither a path, * for OPTIONS nor an http(s) URL where absolute URLs are read, and passes it on where not', () => {
    for (const target of ['admin', 'ftp://h/x', '*']) rejects(`GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`, /neither a path nor an http\(s\) URL/);
    assert.equal(parse('OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n').requests[0]!.target, '*');
    const sink = new Recorder();
    new RequestParser(sink, { maxHeadBytes: 8192, maxFields: 100 }, { ...ACCEPT_ALL, absoluteUrls: false }).execute(Buffer.from('GET admin HTTP/1.1\r\nHost: h\r\n\r\n'), 0);
    assert.equal(sink.requests[0]!.target, 'admin');
  });

  it('checks every request\'s Host on a keep-alive connection, not just the first', () => {
    rejects('GET / HTTP/1.1\r\nHost: ratings\r\n\r\nGET / HTTP/1.1\r\nHost: ratings\r\n\r\nGET / HTTP/1.1\r\nHost: a b\r\n\r\n', /invalid host header "a b"/);
  });

  it('ignores empty lines before a request line', () => {
    assert.equal(parse('\r\n\r\nGET / HTTP/1.1\r\nhost: h\r\n\r\n').requests[0]!.target, '/');
  });

  it('ends upgrade and CONNECT requests at their head: the rest is the tunnel', () => {
    const up = parse('GET /ws HTTP/1.1\r\nhost: h\r\nconnection: keep-alive, Upgrade\r\nupgrade: WebSocket\r\n\r\nFRAME');
    assert.equal(up.requests[0]!.upgrade, 'websocket');
    assert.equal(up.requests[0]!.hasBody, false);
    assert.equal(up.rest.toString(), 'FRAME');
    const connect = parse('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n\x16\x03\x01');
    assert.equal(connect.requests[0]!.connect, true);
    assert.equal(connect.rest.toString('latin1'), '\x16\x03\x01');
    // Without `Connection: upgrade`, or for h2c (which Envoy does not take), it is an ordinary request.
    assert.equal(parse('GET / HTTP/1.1\r\nhost: h\r\nupgrade: websocket\r\n\r\n').requests[0]!.upgrade, undefined);
    assert.equal(parse('GET / HTTP/1.1\r\nhost: h\r\nconnection: upgrade, http2-settings\r\nupgrade: h2c\r\n\r\n').requests[0]!.upgrade, undefined);
  });

  it('gives the same requests however the bytes are split (property: 400 random splits and pauses)', () => {
    const rand = rng(0xc0de);
    const body = Array.from({ length: 500 }, (_, i) => String.fromCharCode(33 + (i % 90))).join('');
    const wire = `POST /p HTTP/1.1\r\nhost: h\r\ncontent-length: ${body.length}\r\n\r\n${body}` +
      `POST /q HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n${(7).toString(16)}\r\n${body.slice(0, 7)}\r\n1ed\r\n${body.slice(7)}\r\n0\r\n\r\n` +
      'GET /r HTTP/1.1\r\nhost: h\r\n\r\n';
    const whole = parse(wire);
    assert.equal(whole.requests.length, 3);
    for (let i = 0; i < 400; i++) {
      const cuts = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => 1 + Math.floor(rand() * (wire.length - 1)));
      const r = parse(wire, cuts, Math.floor(rand() * 3));
      assert.deepEqual(r.requests.map((q) => [q.target, q.headers, Buffer.concat(q.body).toString(), q.ended]), whole.requests.map((q) => [q.target, q.headers, Buffer.concat(q.body).toString(), q.ended]), `cuts ${cuts}`);
    }
  });

  it('reads a content-length given as a list of equal values or repeated as one value (forwarded once), and a plain one', () => {
    const r = parse('POST /a HTTP/1.1\r\nhost: h\r\ncontent-length: 3, 3\r\n\r\nabc' +
      'POST /b HTTP/1.1\r\nhost: h\r\nContent-Length: 012\r\n\r\nhello world!' +
      'POST /c HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\nContent-Length: 02\r\n\r\nok', [], 0);
    assert.deepEqual(r.requests.map((q) => [q.target, Buffer.concat(q.body).toString(), q.ended, q.headers['content-length']]), [
      ['/a', 'abc', true, '3'], ['/b', 'hello world!', true, '012'], ['/c', 'ok', true, '2'],
    ]);
  });

  it('takes whitespace before a chunk extension (BWS), not after a chunk size alone', () => {
    const r = parse('POST /a HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n3 ;x=1\r\nabc\r\n2\t;y\r\nde\r\n0\r\n\r\n');
    assert.equal(Buffer.concat(r.requests[0]!.body).toString(), 'abcde');
    rejects('POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n', /invalid chunk size/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n0\t\r\n\r\n', /invalid chunk size/);
  });

  it('refuses what could desync or smuggle, naming it', () => {
    rejects('POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 6\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n', /both content-length and transfer-encoding/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', /conflicting content-length/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ncontent-length: +5\r\n\r\n', /invalid content-length/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 5x\r\n\r\n', /invalid content-length "5x"/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 1234567890123456\r\n\r\n', /invalid content-length/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ncontent-length:\r\n\r\n', /invalid content-length ""/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 5, 6\r\n\r\n', /conflicting content-length values "5, 6"/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: gzip, chunked\r\n\r\n', /unsupported transfer-encoding/, 501);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n', /unsupported transfer-encoding/, 501);
    rejects('POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n', /transfer-encoding in an HTTP\/1.0 request/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /chunk without a size/);
    rejects('POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcd\r\n', /chunk not followed by CRLF/);
    rejects('GET / HTTP/1.1\r\nhost: h\r\nx: a\r\n b\r\n\r\n', /folded header line/);
    rejects('GET / HTTP/1.1\r\nhost : h\r\n\r\n', /invalid header field name/);
    rejects('GET / HTTP/1.1\r\nhost: h\r\nx: a\x00b\r\n\r\n', /control character in header "x"/);
    rejects('GET / HTTP/1.1\r\nhost: h\r\n__Proto__: a\r\n__proto__: b\r\n\r\n', /__proto__, which weft cannot carry/);
    rejects('GET / HTTP/1.1\nhost: h\r\n\r\n', /request head with a line ended by a bare LF/);
    rejects('GET  / HTTP/1.1\r\nhost: h\r\n\r\n', /malformed request line/);
    rejects('GET / HTTP/1.1 \r\nhost: h\r\n\r\n', /malformed request line/);
    rejects('G(T / HTTP/1.1\r\nhost: h\r\n\r\n', /invalid method/);
    rejects('GET /a\x01b HTTP/1.1\r\nhost: h\r\n\r\n', /control character or space in the request target/);
    rejects('GET / HTTP/1.2\r\nhost: h\r\n\r\n', /unsupported HTTP version/, 505);
    rejects('GET / HTTP/2.0\r\nhost: h\r\n\r\n', /malformed request line/);
    rejects('GET / HTTP/1.1\r\n\r\n', /HTTP\/1.1 request without a host header/);
    rejects('GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n', /more than one host header/);
    rejects(`GET / HTTP/1.1\r\nhost: h\r\nx-big: ${'a'.repeat(9000)}\r\n\r\n`, /request head over 8192 bytes/, 431);
  });

  it('refuses a head whose lines end in a bare LF as soon as one arrives, not when CRLFCRLF never does', () => {
    rejects('GET /x HTTP/1.1\nHost: a\n\n', /request head with a line ended by a bare LF/);
    rejects('GET /x HTTP/1.1\n', /request head with a line ended by a bare LF/);
    rejects('\nGET /x HTTP/1.1\r\nHost: a\r\n', /request head with a line ended by a bare LF/);
    rejects('GET /x HTTP/1.1\r\nHost: a\n\n', /request head with a line ended by a bare LF/);
    // Split over reads: the LF arrives alone, or right after a CR of the previous read.
    assert.throws(() => parse('GET /x HTTP/1.1\r\nHost: a\n\n', [23]), /bare LF/);
    assert.equal(parse('GET /x HTTP/1.1\r\nHost: a\r\n\r\n', [15, 16, 24, 25, 26]).requests[0]!.target, '/x');
    rejects('POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n0\r\nx-t: 1\n\n', /trailers with a line ended by a bare LF/);
  });

  it('refuses a Host that is no valid authority: spaces, userinfo, other characters, a port that is not digits (RFC 9112 §3.2)', () => {
    for (const host of ['a b', 'u@ratings', 'u:p@ratings:9080', 'a/b', 'a{b}', 'ratings:80x', 'caf\xe9']) {
      rejects(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, /invalid host header/);
    }
    rejects('GET / HTTP/1.0\r\nHost: a b\r\n\r\n', /invalid host header "a b"/);
    for (const host of ['ratings', 'ratings:9080', 'ratings.default.svc.cluster.local:9080', '10.0.0.1', '[::1]:8080', 'a_b~c', '']) {
      assert.equal(parse(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`).requests[0]!.headers['host'], host);
    }
  });

  it('refuses a CONNECT target that is not host:port, and an absolute-form target with a bad host or port', () => {
    for (const target of ['/x', 'db', 'db:', 'db:0', 'db:65536', 'db:99999', ':443', 'u@db:443', 'a{b}:443']) {
      rejects(`CONNECT ${target} HTTP/1.1\r\n\r\n`, /CONNECT target that is not host:port/);
    }
    for (const target of ['http://ratings:99999/', 'http://ratings:0/x', 'http://:80/', 'http:///x', 'https://a{b}/', 'http://ratings:8x/']) {
      rejects(`GET ${target} HTTP/1.1\r\n\r\n`, /invalid host or port in the request target/);
    }
    assert.equal(parse('CONNECT [::1]:443 HTTP/1.1\r\n\r\n').requests[0]!.target, '[::1]:443');
    assert.equal(parse('CONNECT db:65535 HTTP/1.1\r\n\r\n').requests[0]!.target, 'db:65535');
    assert.equal(parse('GET http://u:p@ratings:9080/x?y HTTP/1.1\r\n\r\n').requests[0]!.target, 'http://u:p@ratings:9080/x?y');
    assert.equal(parse('GET HTTP://ratings HTTP/1.1\r\n\r\n').requests[0]!.target, 'HTTP://ratings');
  });

  it('takes HTTP/1.0 without a host, and absolute-form and CONNECT targets without one', () => {
    assert.equal(parse('GET / HTTP/1.0\r\n\r\n').requests[0]!.keepAlive, false);
    assert.equal(parse('GET http://a.example/x HTTP/1.1\r\n\r\n').requests[0]!.target, 'http://a.example/x');
    assert.equal(parse('CONNECT a.example:443 HTTP/1.1\r\n\r\n').requests[0]!.connect, true);
  });
});
