/**
 * Failures through the HTTP connection manager, each with its status, response flag, `x-weft-error`
 * cause and counter: retries to a flaky upstream (and URX when they run out), connect failures (UF) with
 * the previous-hosts predicate, timeouts (UT), circuit breaking (UO), downstream disconnects (DC)
 * aborting the upstream request, a request that cannot be written upstream (UPE), and streaming with
 * backpressure both ways.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import http from 'node:http';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import type { OutlierResult } from '../src/proxy/core/contracts.ts';
import { h1Server, hcm, logLine, rawConnection, request, routeConfig, startProxy, waitFor, type Proxy } from './support/hcm-harness.ts';

type Server = Awaited<ReturnType<typeof h1Server>>;

const retryPolicy = (extra: Record<string, unknown>) => ({ retryBackOff: { baseInterval: { seconds: 0, nanos: 1_000_000 } }, ...extra });

describe('HCM failures and resilience', () => {
  let flaky: Server;
  let slow: Server;
  let big: Server;
  let sink: Server;
  let resetter: Server;
  let proxy: Proxy;
  let flakyCount = 0;
  let admit = true;
  const slowClosed: string[] = [];
  /** What the router told the slow host's outlier detection. */
  const slowOutlier: (OutlierResult | number)[] = [];
  const slowStarted: string[] = [];
  let bigWritten = 0;
  let sinkFirstChunk: (() => void) | undefined;

  before(async () => {
    flaky = await h1Server((req, res) => {
      if (req.url === '/always') {
        res.writeHead(503, { 'x-from': 'upstream' }).end('upstream says no');
        return;
      }
      flakyCount++;
      if (flakyCount % 3 !== 0) res.writeHead(503).end('flaky');
      else res.writeHead(200).end(`ok after ${flakyCount}`);
    });
    slow = await h1Server((req, res) => {
      slowStarted.push(req.url ?? '');
      res.once('close', () => slowClosed.push(req.url ?? ''));
      if (req.url?.startsWith('/never') === true || req.url === '/idle') return;
      setTimeout(() => res.writeHead(200).end('late'), 300);
    });
    big = await h1Server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const total = 32 * 1024 * 1024;
      const pump = (): void => {
        while (bigWritten < total) {
          bigWritten += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    sink = await h1Server((req, res: ServerResponse) => {
      req.once('data', (c: Buffer) => {
        sinkFirstChunk?.();
        res.writeHead(200).end(`first:${c.toString().slice(0, 5)}`);
        req.resume();
      });
    });
    resetter = await h1Server((req, res) => {
      if (req.url === '/reset-mid') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      req.socket.destroy();
    });
    const routes = routeConfig([
      { match: { prefix: '/reset' }, route: { cluster: 'resetter' } },
      { match: { prefix: '/flaky' }, route: { cluster: 'flaky', retryPolicy: retryPolicy({ retryOn: '5xx', numRetries: 3 }) } },
      { match: { prefix: '/always' }, route: { cluster: 'flaky', retryPolicy: retryPolicy({ retryOn: 'gateway-error', numRetries: 2 }) } },
      { match: { prefix: '/half-dead' }, route: { cluster: 'half-dead', retryPolicy: retryPolicy({ retryOn: 'connect-failure', numRetries: 1, retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }] }) } },
      { match: { prefix: '/dead-no-retry' }, route: { cluster: 'dead' } },
      { match: { prefix: '/dead' }, route: { cluster: 'dead', retryPolicy: retryPolicy({ retryOn: 'connect-failure', numRetries: 2 }) } },
      { match: { prefix: '/slow' }, route: { cluster: 'slow', timeout: { seconds: 0, nanos: 100_000_000 } } },
      { match: { prefix: '/never' }, route: { cluster: 'slow', timeout: { seconds: 0, nanos: 0 } } },
      { match: { prefix: '/per-try' }, route: { cluster: 'slow', retryPolicy: retryPolicy({ retryOn: '5xx', numRetries: 1, perTryTimeout: { nanos: 50_000_000 } }) } },
      { match: { prefix: '/idle' }, route: { cluster: 'slow', timeout: { seconds: 0, nanos: 0 }, idleTimeout: { seconds: 0, nanos: 100_000_000 } } },
      { match: { prefix: '/guarded' }, route: { cluster: 'guarded' } },
      { match: { prefix: '/big' }, route: { cluster: 'big' } },
      { match: { prefix: '/sink' }, route: { cluster: 'sink' } },
      // A rewrite whose result no HTTP/1.1 request line can carry (a space in the path).
      { match: { prefix: '/unsendable' }, route: { cluster: 'flaky', regexRewrite: { pattern: { regex: '^/unsendable$' }, substitution: '/a b' }, retryPolicy: retryPolicy({ retryOn: 'connect-failure,reset', numRetries: 2 }) } },
    ], { includeAttemptCountInResponse: true });
    proxy = await startProxy(hcm({ routeConfig: routes }), (c) => {
      c.add({ name: 'flaky', hosts: [{ address: '127.0.0.1', port: flaky.port }] });
      c.add({ name: 'slow', hosts: [{ address: '127.0.0.1', port: slow.port, outlier: { putHttpStatus: (s) => slowOutlier.push(s), putResult: (r) => slowOutlier.push(r) } }] });
      c.add({ name: 'big', hosts: [{ address: '127.0.0.1', port: big.port }] });
      c.add({ name: 'sink', hosts: [{ address: '127.0.0.1', port: sink.port }] });
      c.add({ name: 'resetter', hosts: [{ address: '127.0.0.1', port: resetter.port }] });
      c.add({ name: 'half-dead', hosts: [{ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: flaky.port }] });
      c.add({ name: 'dead', hosts: [{ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }] });
      c.add({ name: 'guarded', hosts: [{ address: '127.0.0.1', port: flaky.port }], admit: () => admit });
    });
  });

  after(async () => {
    await proxy.close();
    await Promise.all([flaky.close(), slow.close(), big.close(), sink.close(), resetter.close()]);
  });

  it('retries a flaky upstream until it answers', async () => {
    flakyCount = 0;
    const r = await request(`${proxy.url}/flaky`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok after 3');
    assert.equal(r.headers['x-envoy-attempt-count'], '3');
    assert.equal(proxy.counter('cluster.flaky.upstream_rq_retry'), 2);
    assert.equal(proxy.counter('cluster.flaky.upstream_rq_retry_success'), 1);
  });

  it('URX: when retries run out the last upstream response goes through, flagged', async () => {
    const r = await request(`${proxy.url}/always`);
    assert.equal(r.status, 503);
    assert.equal(r.body, 'upstream says no');
    assert.equal(r.headers['x-from'], 'upstream');
    assert.equal(r.headers['x-weft-error'], undefined);
    assert.equal(r.headers['x-envoy-attempt-count'], '3');
    await waitFor(() => proxy.log.some((l) => l.path === '/always' && logLine(l) === '503 URX'));
  });

  it('retries a connect failure on another host (previous_hosts)', async () => {
    for (let i = 0; i < 4; i++) {
      flakyCount = 2;
      const r = await request(`${proxy.url}/half-dead`);
      assert.equal(r.status, 200, `attempt ${i}: ${String(r.headers['x-weft-error'])}`);
    }
    const picks = proxy.clusters.cluster('half-dead')!.picks;
    assert.ok(picks.some((p) => p?.exclude !== undefined && p.exclude.size === 1));
  });

  it('UF,URX: connect failures on every host are a 503 naming host and cluster', async () => {
    const r = await request(`${proxy.url}/dead`);
    assert.equal(r.status, 503);
    assert.match(String(r.headers['x-weft-error']), /^upstream connect error to 127\.0\.0\.1:[12] in dead: ECONNREFUSED \(retries exhausted after 3 attempts\)$/);
    await waitFor(() => proxy.log.some((l) => l.path === '/dead' && logLine(l).startsWith('503 UF,URX upstream connect error')));
  });

  it('UF without retries', async () => {
    const r = await request(`${proxy.url}/dead-no-retry`);
    assert.equal(r.status, 503);
    assert.match(String(r.headers['x-weft-error']), /^upstream connect error to 127\.0\.0\.1:[12] in dead: ECONNREFUSED$/);
    assert.ok(proxy.counter('cluster.dead.upstream_cx_connect_fail') >= 4);
  });

  it('UPE: a request that cannot be written upstream is a 502 naming what, never retried nor blamed on the host', async () => {
    const connectFails = proxy.counter('cluster.flaky.upstream_cx_connect_fail');
    const retries = proxy.counter('cluster.flaky.upstream_rq_retry');
    const r = await request(`${proxy.url}/unsendable`);
    assert.equal(r.status, 502);
    assert.match(String(r.headers['x-weft-error']), new RegExp(`^request cannot be sent to 127\\.0\\.0\\.1:${flaky.port} in flaky: invalid request target "/a b" in upstream request$`));
    assert.equal(proxy.counter('cluster.flaky.upstream_rq_retry'), retries, 'not retried: the same request would fail on every try');
    assert.equal(proxy.counter('cluster.flaky.upstream_cx_connect_fail'), connectFails);
    assert.equal(proxy.counter('cluster.flaky.upstream_rq_tx_reset'), 1);
    await waitFor(() => proxy.log.some((l) => l.path === '/unsendable' && logLine(l).startsWith('502 UPE request cannot be sent')));
  });

  it('UC: an upstream that resets before answering is a 503 naming host and cluster', async () => {
    const r = await request(`${proxy.url}/reset`);
    assert.equal(r.status, 503);
    assert.match(String(r.headers['x-weft-error']), new RegExp(`^upstream reset before response headers from 127\\.0\\.0\\.1:${resetter.port} in resetter: connection_termination$`));
    await waitFor(() => proxy.log.some((l) => l.path === '/reset' && logLine(l).startsWith('503 UC ')));
  });

  it('UC after the response started: the downstream stream is reset', async () => {
    await assert.rejects(request(`${proxy.url}/reset-mid`), /aborted|ECONNRESET|socket hang up/);
    await waitFor(() => proxy.log.some((l) => l.path === '/reset-mid' && logLine(l) === '200 UC'));
  });

  it('UT: the route timeout is a 504 naming the cluster', async () => {
    slowOutlier.length = 0;
    const r = await request(`${proxy.url}/slow`);
    assert.equal(r.status, 504);
    assert.equal(r.headers['x-weft-error'], 'upstream request timeout in slow');
    assert.equal(proxy.counter('cluster.slow.upstream_rq_timeout'), 1);
    assert.equal(proxy.counter('cluster.slow.upstream_rq_504'), 1);
    await waitFor(() => proxy.log.some((l) => logLine(l) === '504 UT upstream request timeout in slow'));
    assert.deepEqual(slowOutlier, ['timeout'], 'the host\'s outlier detection hears of the timeout');
  });

  it('UT: per-try timeouts are retried, and each one counts against the host for outlier detection', async () => {
    slowOutlier.length = 0;
    const r = await request(`${proxy.url}/per-try`);
    assert.equal(r.status, 504);
    assert.match(String(r.headers['x-weft-error']), /per-try timeout/);
    assert.deepEqual(slowOutlier, ['timeout', 'timeout']);
  });

  it('honours x-envoy-upstream-rq-timeout-ms from internal clients', async () => {
    const r = await request(`${proxy.url}/never`, { headers: { 'x-envoy-upstream-rq-timeout-ms': '50' } });
    assert.equal(r.status, 504);
  });

  it('SI: a route idle timeout answers 408 and aborts the upstream request', async () => {
    const r = await request(`${proxy.url}/idle`);
    assert.equal(r.status, 408);
    assert.equal(r.headers['x-weft-error'], 'stream idle timeout');
    await waitFor(() => slowClosed.includes('/idle'));
    await waitFor(() => proxy.log.some((l) => logLine(l) === '408 SI stream idle timeout'));
  });

  it('UO: a closed circuit breaker is a 503', async () => {
    admit = false;
    const r = await request(`${proxy.url}/guarded`);
    admit = true;
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-weft-error'], 'upstream overflow (circuit breaker open) in guarded');
    assert.equal(r.headers['x-envoy-overloaded'], 'true', 'Envoy marks a circuit breaker 503 so that nobody retries into the overload');
    assert.equal(proxy.counter('cluster.guarded.upstream_rq_pending_overflow'), 1);
  });

  it('DC: a client that goes away aborts the upstream request', async () => {
    const c = await rawConnection(proxy.port);
    c.write('GET /never?h1 HTTP/1.1\r\nHost: svc\r\n\r\n');
    await waitFor(() => slowStarted.includes('/never?h1'));
    c.socket.destroy();
    await waitFor(() => slowClosed.includes('/never?h1'));
    await waitFor(() => proxy.log.some((l) => l.path === '/never?h1' && logLine(l) === '0 DC'));
  });

  it('DC mid-upload: a client that closes before its body is complete, while the upstream connection is still being made, ends the exchange and nothing else', async () => {
    for (let i = 0; i < 5; i++) {
      const c = await rawConnection(proxy.port);
      // The head, 5 of the 100 bytes it announces, and the FIN arrive together: the reader of the body has
      // no consumer yet when the downstream fails it.
      c.socket.end(`POST /sink?abort${i} HTTP/1.1\r\nHost: svc\r\nContent-Length: 100\r\n\r\nhello`);
      await waitFor(() => proxy.log.some((l) => l.path === `/sink?abort${i}` && logLine(l).endsWith('DC')));
    }
    const r = await request(`${proxy.url}/sink`, { method: 'POST', body: 'after' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'first:after');
  });

  it('DC over HTTP/2: a cancelled stream aborts the upstream request', async () => {
    const session = http2.connect(proxy.url);
    try {
      const req = session.request({ ':path': '/never?h2' });
      req.on('error', () => {});
      await waitFor(() => slowStarted.includes('/never?h2'));
      req.close(http2.constants.NGHTTP2_CANCEL);
      await waitFor(() => slowClosed.includes('/never?h2'));
      await waitFor(() => proxy.log.some((l) => l.path === '/never?h2' && logLine(l) === '0 DC'));
    } finally {
      session.destroy();
    }
  });

  it('streams large responses with backpressure (the upstream waits for a slow client)', async () => {
    bigWritten = 0;
    const received = await new Promise<number>((resolve, reject) => {
      http.get(`${proxy.url}/big`, { agent: false }, (res) => {
        res.pause();
        // While the client reads nothing, the upstream must stall well short of the 32 MiB body.
        waitFor(() => bigWritten > 0).then(() => new Promise((r) => setTimeout(r, 300))).then(() => {
          try {
            assert.ok(bigWritten < 16 * 1024 * 1024, `upstream wrote ${bigWritten} bytes to a client reading nothing`);
          } catch (err) {
            reject(err);
            return;
          }
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
          });
          res.on('end', () => resolve(n));
          res.resume();
        }, reject);
      }).on('error', reject);
    });
    assert.equal(received, 32 * 1024 * 1024);
  });

  it('streams large responses to an HTTP/2 client with backpressure (stream windows: the upstream waits)', async () => {
    bigWritten = 0;
    // A stream window of 64 KiB: a client that reads nothing stops the flow.
    const session = http2.connect(proxy.url, { settings: { initialWindowSize: 65_535 } });
    try {
      const req = session.request({ ':path': '/big' });
      req.pause();
      await waitFor(() => bigWritten > 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(bigWritten < 16 * 1024 * 1024, `upstream wrote ${bigWritten} bytes to an HTTP/2 client reading nothing`);
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.resume();
      await new Promise((resolve) => req.on('end', resolve));
      assert.equal(n, 32 * 1024 * 1024);
    } finally {
      session.destroy();
    }
  });

  it('streams request bodies: the upstream sees the first bytes before the client finishes', async () => {
    const first = new Promise<void>((resolve) => {
      sinkFirstChunk = resolve;
    });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${proxy.url}/sink`, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, resolve);
      req.on('error', reject);
      req.write('hello world');
      // The rest of the body is sent only after the upstream saw the first chunk.
      first.then(() => req.end('the end'), reject);
    });
    const body = await new Promise<string>((resolve) => {
      let s = '';
      res.on('data', (d) => {
        s += d;
      });
      res.on('end', () => resolve(s));
    });
    assert.equal(body, 'first:hello');
  });

  it('streams HTTP/2 request bodies: the upstream sees the first bytes before the client finishes', async () => {
    const first = new Promise<void>((resolve) => {
      sinkFirstChunk = resolve;
    });
    const session = http2.connect(proxy.url);
    try {
      const req = session.request({ ':method': 'POST', ':path': '/sink' });
      req.write('hello world');
      // The rest of the body is sent only after the upstream saw the first chunk.
      await first;
      req.end('the end');
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      const [head] = await once(req, 'response') as [http2.IncomingHttpHeaders];
      await once(req, 'end');
      assert.equal(head[':status'], 200);
      assert.equal(body, 'first:hello');
    } finally {
      session.destroy();
    }
  });
});
