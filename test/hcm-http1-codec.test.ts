/**
 * weft's HTTP/1.x downstream codec through a real proxy, on raw sockets: pipelined requests answered in
 * order, `Expect: 100-continue`, HTTP/1.0 (keep-alive on request, close-delimited bodies), HEAD, request
 * bodies answered early (read and dropped, the connection kept), requests the codec refuses (400, 501,
 * 505, never forwarded), the request timeout (408) and the idle timeout — the last two over HTTP/2 too.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { echo, echoProxy, h1Server, hcm, logLine, raw, rawBody, rawConnection, routeConfig, startProxy, type Proxy } from './support/hcm-harness.ts';

type Server = Awaited<ReturnType<typeof h1Server>>;

/** Reads from a raw connection until `text` holds `pattern`. */
async function readUntil(c: Awaited<ReturnType<typeof rawConnection>>, pattern: RegExp): Promise<string> {
  let text = '';
  while (!pattern.test(text)) text += (await c.next()).toString('latin1');
  return text;
}

describe('HTTP/1.x downstream codec', () => {
  let up: Server;
  let proxy: Proxy;
  let upstreamRequests = 0;

  before(async () => {
    const handler = echo('up');
    up = await h1Server((req, res) => {
      upstreamRequests++;
      if (req.url === '/stream') {
        // No content-length: the proxy picks the downstream framing.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part1,');
        setImmediate(() => res.end('part2'));
        return;
      }
      if (req.url!.startsWith('/fixed')) {
        res.writeHead(200, { 'content-length': String(req.url!.length) });
        res.end(req.url);
        return;
      }
      handler(req, res);
    });
    proxy = await startProxy(hcm({
      routeConfig: routeConfig([
        { match: { prefix: '/local' }, directResponse: { status: 403, body: { inlineString: 'no' } } },
        { match: { prefix: '/' }, route: { cluster: 'up' } },
      ]),
      requestTimeout: { seconds: 0, nanos: 300_000_000 },
      commonHttpProtocolOptions: { idleTimeout: { seconds: 0, nanos: 400_000_000 } },
      // HTTP/1.0 framing is tested here: the listener accepts it (Envoy's default refuses it, hcm-routing).
      httpProtocolOptions: { acceptHttp_10: true },
    }), (c) => c.add({ name: 'up', hosts: [{ address: '127.0.0.1', port: up.port }] }));
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('HTTP/1.0 without Host reaches the upstream with its address as Host', async () => {
    const out = await raw(proxy.port, 'GET /ten HTTP/1.0\r\n\r\n');
    assert.match(out, /^HTTP\/1\.[01] 200 /);
    assert.equal(JSON.parse(rawBody(out)).headers.host, `127.0.0.1:${up.port}`);
  });

  it('HTTP/1.0 without Host takes default_host_for_http_10 when the listener names one', async () => {
    const { proxy: p, close } = await echoProxy({ httpProtocolOptions: { acceptHttp_10: true, defaultHostForHttp_10: 'fallback.example' } });
    try {
      const out = await raw(p.port, 'GET /ten HTTP/1.0\r\n\r\n');
      assert.match(out, /^HTTP\/1\.[01] 200 /);
      assert.equal(JSON.parse(rawBody(out)).headers.host, 'fallback.example');
    } finally {
      await close();
    }
  });

  it('answers pipelined requests in order, bodies included', async () => {
    const out = await raw(proxy.port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.deepEqual([...out.matchAll(/"url":"(\/\w)"/g)].map((m) => m[1]), ['/a', '/b', '/c']);
    assert.match(out, /"url":"\/b","headers":\{[^}]*\},"body":"hello"/);
    assert.equal(out.match(/^HTTP\/1\.1 200 OK\r\n/gm)?.length, 3);
  });

  it('answers Expect: 100-continue itself and does not forward the expectation', async () => {
    const c = await rawConnection(proxy.port);
    c.write('POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    assert.equal((await c.next()).toString(), 'HTTP/1.1 100 Continue\r\n\r\n');
    c.write('hello');
    const reply = await readUntil(c, /"body":"hello"/);
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(reply, /"expect"/);
    c.socket.destroy();
  });

  it('frames a response without content-length as chunked for HTTP/1.1 and close-delimited for HTTP/1.0', async () => {
    const h11 = await raw(proxy.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(h11, /transfer-encoding: chunked\r\n/);
    assert.equal(rawBody(h11), 'part1,part2');
    const h10 = await raw(proxy.port, 'GET /stream HTTP/1.0\r\n\r\n');
    assert.doesNotMatch(h10, /transfer-encoding/i);
    assert.match(h10, /connection: close\r\n/);
    assert.equal(h10.slice(h10.indexOf('\r\n\r\n') + 4), 'part1,part2');
  });

  it('keeps an HTTP/1.0 connection the client asks to keep, and closes it otherwise', async () => {
    const out = await raw(proxy.port, 'GET /fixed1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /fixed2 HTTP/1.0\r\n\r\nGET /fixed3 HTTP/1.0\r\n\r\n');
    assert.deepEqual([...out.matchAll(/\r\n\r\n(\/fixed\d)/g)].map((m) => m[1]), ['/fixed1', '/fixed2']);
    assert.match(out, /connection: keep-alive\r\n[\s\S]*connection: close\r\n/);
  });

  it('sends no body for HEAD, with the length the upstream declared', async () => {
    const out = await raw(proxy.port, 'HEAD /fixed-head HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(out, /content-length: 11\r\n/);
    assert.ok(out.endsWith('\r\n\r\n'), JSON.stringify(out));
  });

  it('reads and drops the body of a request answered before it arrived, and keeps the connection', async () => {
    const c = await rawConnection(proxy.port);
    c.write('POST /local HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345');
    const first = await readUntil(c, /\r\n\r\nno$/);
    assert.match(first, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.doesNotMatch(first, /connection: close/i);
    c.write('67890GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(await readUntil(c, /"url":"\/after"/), /^HTTP\/1\.1 200 /);
    c.socket.destroy();
  });

  it('refuses requests it cannot take, naming why, and forwards none of them', async () => {
    const before = upstreamRequests;
    const logged = proxy.log.length;
    const cases: [string, RegExp][] = [
      ['GET / HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 [^]*x-weft-error: malformed HTTP request: client sent an HTTP\/1\.1 request without a host header/],
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /^HTTP\/1\.1 501 [^]*unsupported transfer-encoding/],
      ['GET / HTTP/1.2\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 505 [^]*unsupported HTTP version/],
      ['GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n', /^HTTP\/1\.1 400 [^]*invalid header field name/],
      ['GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 [^]*malformed request line/],
    ];
    for (const [request, expected] of cases) {
      const out = await raw(proxy.port, request);
      assert.match(out, expected, JSON.stringify(request));
      assert.equal(out.match(/^HTTP\/1\.1 \d{3} /gm)?.length, 1);
    }
    assert.equal(upstreamRequests, before);
    assert.deepEqual(proxy.log.slice(logged).map((i) => logLine(i).split(' ').slice(0, 2).join(' ')), ['400 DPE', '501 DPE', '505 DPE', '400 DPE', '400 DPE']);
  });

  it('answers a head with bare LF line ends at once with 400 (it would otherwise wait for CRLFCRLF until a timeout)', async () => {
    const before = upstreamRequests;
    const errors = proxy.counter('http.test.downstream_cx_protocol_error');
    for (const request of ['GET /x HTTP/1.1\nHost: a\n\n', 'GET /x HTTP/1.1\r\nHost: a\n\n']) {
      const started = performance.now();
      const out = await raw(proxy.port, request);
      assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n[^]*x-weft-error: malformed HTTP request: client sent a request head with a line ended by a bare LF\r\n/, JSON.stringify(request));
      assert.ok(performance.now() - started < 300, 'answered at once, not after the idle timeout');
    }
    assert.equal(upstreamRequests, before);
    assert.equal(proxy.counter('http.test.downstream_cx_protocol_error'), errors + 2);
    assert.equal(logLine(proxy.log.at(-1)!).split(' ').slice(0, 2).join(' '), '400 DPE');
  });

  it('answers 408 when the whole request does not arrive within request_timeout', async () => {
    const before = proxy.counter('http.test.downstream_rq_timeout');
    const out = await raw(proxy.port, 'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12', 3000);
    assert.match(out, /^HTTP\/1\.1 408 /);
    assert.match(out, /x-weft-error: request timeout/);
    assert.equal(proxy.counter('http.test.downstream_rq_timeout'), before + 1);
  });

  it('answers 408 to an HTTP/2 request whose body does not arrive within request_timeout', async () => {
    const before = proxy.counter('http.test.downstream_rq_timeout');
    const session = http2.connect(proxy.url);
    try {
      const req = session.request({ ':method': 'POST', ':path': '/slow', 'content-length': '10' });
      req.write('12');
      const [head] = await once(req, 'response') as [http2.IncomingHttpHeaders];
      assert.equal(head[':status'], 408);
      assert.equal(head['x-weft-error'], 'request timeout');
      // The response is complete before the request: the client is asked to stop sending (RST_STREAM NO_ERROR).
      req.resume();
      await once(req, 'close');
      assert.equal(req.rstCode, http2.constants.NGHTTP2_NO_ERROR);
      assert.equal(proxy.counter('http.test.downstream_rq_timeout'), before + 1);
    } finally {
      session.destroy();
    }
  });

  it('closes a connection idle for idle_timeout', async () => {
    const before = proxy.counter('http.test.downstream_cx_idle_timeout');
    const c = await rawConnection(proxy.port);
    c.write('GET /i HTTP/1.1\r\nHost: x\r\n\r\n');
    await readUntil(c, /"url":"\/i"/);
    await c.closed;
    assert.equal(proxy.counter('http.test.downstream_cx_idle_timeout'), before + 1);
  });

  it('closes an HTTP/2 connection without streams for idle_timeout, with GOAWAY', async () => {
    const before = proxy.counter('http.test.downstream_cx_idle_timeout');
    const session = http2.connect(proxy.url);
    const req = session.request({ ':path': '/i2' });
    req.resume();
    await once(req, 'close');
    await once(session, 'goaway');
    await once(session, 'close');
    assert.equal(proxy.counter('http.test.downstream_cx_idle_timeout'), before + 1);
  });
});

describe('HTTP/1.x downstream codec without a headers timeout', () => {
  it('closes a connection whose request head never completes within idle_timeout (no slow-loris hold)', async () => {
    const { proxy, close } = await echoProxy({ commonHttpProtocolOptions: { idleTimeout: { seconds: 0, nanos: 300_000_000 } } });
    try {
      const c = await rawConnection(proxy.port);
      c.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => c.socket.writable && c.write('x-slow: 1\r\n'), 50);
      await c.closed;
      clearInterval(trickle);
      assert.equal(proxy.counter('http.test.downstream_cx_idle_timeout'), 1);
    } finally {
      await close();
    }
  });
});
