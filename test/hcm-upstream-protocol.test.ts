/**
 * Responses weft's HTTP/1.1 codec cannot read, from a raw-socket upstream: each is an upstream protocol
 * error, answered as Envoy's router answers a codec error on the upstream connection — `502` with flag
 * UPE, details `upstream_reset_before_response_started{protocol_error}` and `upstream_cx_protocol_error`
 * counted on the cluster (not `upstream_rq_rx_reset`, not a 503 UC) — including bad chunking right
 * behind a good head, while that head has not reached the client, and a head with bare LF line ends
 * (which once left the client waiting: the upstream keeps the connection open and CRLFCRLF never came);
 * and an HTTP/2 response whose content-length its DATA does not match.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { hcm, logLine, raw, rawServer, request, routeConfig, startProxy, type Proxy } from './support/hcm-harness.ts';

/** What the upstream answers to `GET /<name>`. */
const RESPONSES: Record<string, string> = {
  'bad-status-line': 'HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\nhi',
  'garbage': 'this is not http\r\n\r\n',
  'status-600': 'HTTP/1.1 600 Odd\r\ncontent-length: 2\r\n\r\nhi',
  'conflicting-length': 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nhi',
  'te-and-cl': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 2\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
  'negative-length': 'HTTP/1.1 200 OK\r\ncontent-length: -2\r\n\r\nhi',
  'huge-length': 'HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999\r\n\r\nhi',
  'obs-fold': 'HTTP/1.1 200 OK\r\nx-a: 1\r\n  folded\r\ncontent-length: 2\r\n\r\nhi',
  'nul-in-header': 'HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 2\r\n\r\nhi',
  'unsolicited-101': 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
  'oversized-head': `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(61 * 1024)}\r\ncontent-length: 2\r\n\r\nhi`,
  'too-many-headers': `HTTP/1.1 200 OK\r\n${Array.from({ length: 101 }, (_, i) => `x-h${i}: v\r\n`).join('')}content-length: 2\r\n\r\nhi`,
  'bare-lf': 'HTTP/1.1 200 OK\nContent-Length: 2\n\nhi',
  'bad-chunk': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n',
  'good': 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi',
};

describe('malformed upstream responses (UPE)', () => {
  let up: Awaited<ReturnType<typeof rawServer>>;
  let proxy: Proxy;

  before(async () => {
    up = await rawServer((line) => RESPONSES[line.split(' ')[1]!.slice(1)] ?? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    proxy = await startProxy(hcm({ routeConfig: routeConfig([{ match: { prefix: '/' }, route: { cluster: 'bad' } }]) }), (c) => c.add({ name: 'bad', hosts: [{ address: '127.0.0.1', port: up.port }] }));
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  for (const name of Object.keys(RESPONSES).filter((n) => n !== 'good' && n !== 'bad-chunk')) {
    it(`answers 502 UPE to ${name}`, { timeout: 3000 }, async () => {
      const errors = proxy.counter('cluster.bad.upstream_cx_protocol_error');
      const resets = proxy.counter('cluster.bad.upstream_rq_rx_reset');
      const r = await request(`${proxy.url}/${name}`);
      assert.equal(r.status, 502, r.body);
      assert.match(String(r.headers['x-weft-error']), /^upstream protocol error from 127\.0\.0\.1:\d+ in bad: upstream sent /);
      const info = proxy.log.at(-1)!;
      assert.equal(info.details, 'upstream_reset_before_response_started{protocol_error}');
      assert.match(logLine(info), /^502 UPE upstream protocol error /);
      assert.equal(proxy.counter('cluster.bad.upstream_cx_protocol_error'), errors + 1);
      assert.equal(proxy.counter('cluster.bad.upstream_rq_rx_reset'), resets);
    });
  }

  it('answers 502 UPE to an HTTP/1 client when bad chunking follows a good head in the same read', async () => {
    const ok = proxy.counter('http.test.downstream_rq_2xx');
    const cluster = ['upstream_rq_200', 'upstream_rq_2xx', 'upstream_rq_502', 'upstream_rq_5xx'].map((n) => proxy.counter(`cluster.bad.${n}`));
    const out = await raw(proxy.port, 'GET /bad-chunk HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(out, /x-weft-error: upstream protocol error from [^\r]* upstream sent a chunk without a size/);
    assert.equal(out.match(/HTTP\/1\.1/g)?.length, 1, 'only the 502: the upstream head was withdrawn');
    assert.equal(proxy.counter('http.test.downstream_rq_2xx'), ok, 'the withdrawn 200 is not counted');
    // On the cluster too: one request, one response code, the 502 the client got.
    assert.deepEqual(['upstream_rq_200', 'upstream_rq_2xx', 'upstream_rq_502', 'upstream_rq_5xx'].map((n) => proxy.counter(`cluster.bad.${n}`)), [cluster[0], cluster[1], cluster[2]! + 1, cluster[3]! + 1]);
    assert.equal(proxy.log.at(-1)!.details, 'upstream_reset_before_response_started{protocol_error}');
  });

  it('still forwards a well-formed response', async () => {
    const r = await request(`${proxy.url}/good`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hi');
  });
});

describe('malformed HTTP/2 upstream responses (UPE)', () => {
  let up: http2.Http2Server;
  let proxy: Proxy;

  before(async () => {
    up = http2.createServer();
    // A length the response then ends without: malformed (RFC 9113 §8.1.1), unless the request was HEAD.
    up.on('stream', (stream) => stream.respond({ ':status': 200, 'content-length': '5' }, { endStream: true }));
    await new Promise<void>((resolve) => up.listen(0, '127.0.0.1', resolve));
    const port = (up.address() as AddressInfo).port;
    proxy = await startProxy(hcm({ routeConfig: routeConfig([{ match: { prefix: '/' }, route: { cluster: 'bad2' } }]) }), (c) => c.add({ name: 'bad2', http2: true, hosts: [{ address: '127.0.0.1', port }] }));
  });

  after(async () => {
    await proxy.close();
    await new Promise((resolve) => up.close(resolve));
  });

  it('answers 502 UPE to a response that breaks HTTP/2 message rules, and forwards the same to HEAD', async () => {
    const r = await request(`${proxy.url}/x`);
    assert.equal(r.status, 502, r.body);
    assert.match(String(r.headers['x-weft-error']), /^upstream protocol error from 127\.0\.0\.1:\d+ in bad2: malformed upstream response: content-length 5 on a response with no body/);
    assert.equal(proxy.log.at(-1)!.details, 'upstream_reset_before_response_started{protocol_error}');
    const head = await request(`${proxy.url}/x`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
  });
});
