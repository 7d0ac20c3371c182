/**
 * Hardening and header handling of the HTTP connection manager: request smuggling (CL+TE, bad chunking)
 * rejected with 400 by the strict parser, header count and size limits (431), the request headers
 * timeout (408), upgrades not configured (403), edge behaviour (`use_remote_address`: x-forwarded-for
 * appended, external x-envoy-* stripped, request id regenerated), sidecar behaviour (internal requests
 * keep their x-request-id), and draining.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { echo, echoProxy, h1Server, hcm, raw, rawBody, rawConnection, request, routeConfig, startProxy, waitFor, type Proxy } from './support/hcm-harness.ts';

type Server = Awaited<ReturnType<typeof h1Server>>;

describe('HCM hardening (edge proxy)', () => {
  let up: Server;
  let proxy: Proxy;
  let upstreamRequests = 0;

  before(async () => {
    const handler = echo('up');
    up = await h1Server((req, res) => {
      upstreamRequests++;
      handler(req, res);
    });
    proxy = await startProxy(hcm({
      routeConfig: routeConfig([{ match: { prefix: '/' }, route: { cluster: 'up' } }]),
      useRemoteAddress: { value: true },
      upgradeConfigs: [],
      commonHttpProtocolOptions: { maxHeadersCount: { value: 20 } },
      maxRequestHeadersKb: { value: 2 },
      requestHeadersTimeout: { seconds: 0, nanos: 200_000_000 },
    }), (c) => c.add({ name: 'up', hosts: [{ address: '127.0.0.1', port: up.port }] }));
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('rejects Content-Length with Transfer-Encoding (request smuggling) with 400 and never forwards it', async () => {
    const before = upstreamRequests;
    const out = await raw(proxy.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(out, /x-weft-error: malformed HTTP request: client sent both content-length and transfer-encoding/);
    assert.equal(out.match(/HTTP\/1\.1/g)?.length, 1);
    assert.equal(upstreamRequests, before);
    assert.ok(proxy.counter('http.test.downstream_cx_protocol_error') >= 1);
  });

  it('forwards identical Content-Length values, repeated or listed, as one (a Node upstream would refuse two)', async () => {
    for (const fields of ['Content-Length: 5, 5\r\n', 'Content-Length: 5\r\ncontent-length: 5\r\n']) {
      const out = await raw(proxy.port, `POST /cl HTTP/1.1\r\nHost: x\r\n${fields}Connection: close\r\n\r\nhello`);
      assert.match(out, /^HTTP\/1\.1 200 /, out);
      const seen = JSON.parse(rawBody(out)) as { headers: Record<string, string>; body: string };
      assert.equal(seen.headers['content-length'], '5');
      assert.equal(seen.body, 'hello');
    }
  });

  it('rejects invalid chunked framing with 400', async () => {
    const out = await raw(proxy.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 /);
  });

  it('answers 431 to too many headers', async () => {
    const headers = Array.from({ length: 25 }, (_, i) => `x-h${i}: v\r\n`).join('');
    const out = await raw(proxy.port, `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
    assert.match(out, /^HTTP\/1\.1 431 /);
    assert.match(out, /x-weft-error: too many request headers \(27, at most 20\)/);
  });

  it('answers 431 to oversized headers', async () => {
    const out = await raw(proxy.port, `GET / HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(4096)}\r\n\r\n`);
    assert.match(out, /^HTTP\/1\.1 431 /);
  });

  it('answers 431 to oversized headers over HTTP/2, and the connection goes on', async () => {
    const session = http2.connect(proxy.url);
    try {
      const get = (headers: http2.OutgoingHttpHeaders) => new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const req = session.request({ ':path': '/', ...headers });
        req.on('response', resolve).on('error', reject);
        req.resume();
      });
      const big = await get({ 'x-big': 'a'.repeat(4096) });
      assert.equal(big[':status'], 431);
      assert.match(String(big['x-weft-error']), /request headers too large \(\d+ bytes, at most \d+\)/);
      assert.equal((await get({}))[':status'], 200);
    } finally {
      session.destroy();
    }
  });

  it('resets malformed HTTP/2 requests and counts codec events under Envoy\'s names', async () => {
    const counters = ['http2.rx_messaging_error', 'http2.tx_reset', 'http2.rx_reset'];
    const before = counters.map((n) => proxy.counter(n));
    const session = http2.connect(proxy.url);
    try {
      const bad = session.request({ ':path': '/', 'x-padded': ' value' }); // whitespace at the start: malformed
      bad.on('error', () => {});
      await new Promise((resolve) => bad.on('close', resolve));
      assert.equal(bad.rstCode, http2.constants.NGHTTP2_PROTOCOL_ERROR);
      const cancelled = session.request({ ':path': '/' });
      cancelled.on('error', () => {});
      cancelled.close(http2.constants.NGHTTP2_CANCEL);
      await waitFor(() => proxy.counter('http2.rx_reset') > before[2]!);
      assert.deepEqual(counters.map((n) => proxy.counter(n)), [before[0]! + 1, before[1]! + 1, before[2]! + 1]);
    } finally {
      session.destroy();
    }
  });

  it('resets HTTP/2 requests whose content-length their DATA does not match, at END_STREAM on HEADERS or on trailers, and forwards nothing', async () => {
    const before = upstreamRequests;
    const errors = proxy.counter('http2.rx_messaging_error');
    const session = http2.connect(proxy.url);
    try {
      // A length with no body at all: forwarded as it is, an HTTP/1.1 upstream would read the next request as its body.
      const bodiless = session.request({ ':method': 'POST', ':path': '/', 'content-length': '29' }, { endStream: true });
      bodiless.on('error', () => {});
      await new Promise((resolve) => bodiless.on('close', resolve));
      assert.equal(bodiless.rstCode, http2.constants.NGHTTP2_PROTOCOL_ERROR);
      // DATA short of the length, ended by trailers.
      const short = session.request({ ':method': 'POST', ':path': '/', 'content-length': '5' }, { waitForTrailers: true });
      short.on('error', () => {});
      short.on('wantTrailers', () => short.sendTrailers({ 'x-t': '1' }));
      short.end('ab');
      await new Promise((resolve) => short.on('close', resolve));
      assert.equal(short.rstCode, http2.constants.NGHTTP2_PROTOCOL_ERROR);
      assert.equal(proxy.counter('http2.rx_messaging_error'), errors + 2);
      // The same with the length right goes through.
      const good = session.request({ ':method': 'POST', ':path': '/', 'content-length': '2' }, { waitForTrailers: true });
      good.on('wantTrailers', () => good.sendTrailers({ 'x-t': '1' }));
      good.end('ab');
      const [head] = await once(good, 'response') as [http2.IncomingHttpHeaders];
      assert.equal(head[':status'], 200);
      good.resume();
      await once(good, 'end');
      assert.equal(upstreamRequests, before + 1);
    } finally {
      session.destroy();
    }
  });

  it('answers 400 to a Host that is no valid authority, and never forwards it', async () => {
    const before = upstreamRequests;
    for (const host of ['a b', 'u@ratings']) {
      const out = await raw(proxy.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/, host);
      assert.match(out, /x-weft-error: malformed HTTP request: client sent an invalid host header /, host);
    }
    assert.equal(upstreamRequests, before);
  });

  it('resets an HTTP/2 request whose :authority has userinfo or whose :path has a space (malformed, RFC 9113 §8.3.1)', async () => {
    const before = upstreamRequests;
    const session = http2.connect(proxy.url);
    try {
      for (const headers of [{ ':path': '/', ':authority': 'u@ratings' }, { ':path': '/', ':authority': 'a b' }, { ':path': '/a b' }]) {
        const req = session.request(headers);
        req.on('error', () => {});
        req.on('response', () => assert.fail(`answered ${JSON.stringify(headers)}`));
        await new Promise((resolve) => req.on('close', resolve));
        assert.equal(req.rstCode, http2.constants.NGHTTP2_PROTOCOL_ERROR, JSON.stringify(headers));
      }
    } finally {
      session.destroy();
    }
    assert.equal(upstreamRequests, before);
  });

  it('answers 408 when the headers do not arrive in time', async () => {
    const c = await rawConnection(proxy.port);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const reply = (await c.next()).toString();
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, /x-weft-error: request headers timeout/);
    await c.closed;
  });

  it('refuses upgrades the listener is not configured for (403)', async () => {
    const out = await raw(proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 403 /);
    assert.match(out, /x-weft-error: upgrade websocket not allowed on this listener/);
  });

  it('at the edge: appends the client to x-forwarded-for, strips x-envoy-*, replaces the request id', async () => {
    const r = await request(`${proxy.url}/edge`, { headers: { 'x-forwarded-for': '203.0.113.9', 'x-envoy-upstream-rq-timeout-ms': '1', 'x-envoy-retry-on': '5xx', 'x-envoy-anything': 'x', 'x-request-id': 'from-outside' } });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body);
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9,127.0.0.1');
    assert.equal(seen.headers['x-envoy-anything'], undefined);
    assert.equal(seen.headers['x-envoy-retry-on'], undefined);
    assert.equal(seen.headers['x-envoy-external-address'], '127.0.0.1');
    assert.notEqual(seen.headers['x-request-id'], 'from-outside');
  });

  it('a loopback client with no x-forwarded-for is internal: x-envoy-internal, request id kept', async () => {
    const r = await request(`${proxy.url}/internal`, { headers: { 'x-request-id': 'keep-me' } });
    const seen = JSON.parse(r.body);
    assert.equal(seen.headers['x-envoy-internal'], 'true');
    assert.equal(seen.headers['x-request-id'], 'keep-me');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });
});

describe('HCM max connection duration', () => {
  it('closes HTTP/1.1 connections at their next response, and sends HTTP/2 GOAWAY', async () => {
    const { proxy, close } = await echoProxy({ commonHttpProtocolOptions: { maxConnectionDuration: { seconds: 0, nanos: 100_000_000 } } });
    try {
      const session = http2.connect(proxy.url);
      const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
      const c = await rawConnection(proxy.port);
      c.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.doesNotMatch((await c.next()).toString(), /Connection: close/i);
      await goaway;
      session.destroy();
      await waitFor(() => proxy.counter('http.test.downstream_cx_max_duration_reached') === 2);
      await c.closed;
    } finally {
      await close();
    }
  });
});

describe('HCM draining and connection limits', () => {
  let proxy: Proxy;
  let close: () => Promise<void>;

  before(async () => {
    ({ proxy, close } = await echoProxy({ commonHttpProtocolOptions: { maxRequestsPerConnection: { value: 2 } } }));
  });

  after(() => close());

  it('closes an HTTP/1.1 connection after max_requests_per_connection', async () => {
    const out = await raw(proxy.port, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(out.match(/HTTP\/1\.1 200/g)?.length, 2);
    assert.match(out, /Connection: close/i);
  });

  it('draining: HTTP/2 sessions get GOAWAY, HTTP/1.1 responses close the connection', async () => {
    const session = http2.connect(proxy.url);
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    await new Promise<void>((resolve) => session.once('connect', () => resolve()));
    const c = await rawConnection(proxy.port);
    c.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match((await c.next()).toString(), /^HTTP\/1\.1 200/);
    proxy.filter.drain();
    await goaway;
    await c.closed;
    session.destroy();
    const after = await raw(proxy.port, 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(after, /^HTTP\/1\.1 200/);
    assert.match(after, /Connection: close/i);
    assert.equal(JSON.parse(rawBody(after)).url, '/b');
    await waitFor(() => proxy.counter('http.test.downstream_cx_active') === 0);
  });
});
