/**
 * The HTTP connection manager end to end: a real listener socket, routes (inline and RDS), real upstream
 * servers. Routing by path, header and weight; redirects, direct responses and rewrites; absolute-form
 * proxy requests; the local replies NR, NC and UH with their `x-weft-error` headers and flags.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { echo, h1Server, hcm, logLine, raw, rawBody, request, routeConfig, startProxy, waitFor, type Proxy } from './support/hcm-harness.ts';

type Server = Awaited<ReturnType<typeof h1Server>>;

describe('HCM routing (HTTP/1.1)', () => {
  let a: Server;
  let b: Server;
  let proxy: Proxy;

  before(async () => {
    a = await h1Server(echo('a'));
    b = await h1Server(echo('b'));
    const routes = routeConfig([
      { match: { prefix: '/header' , headers: [{ name: 'x-pick', stringMatch: { exact: 'b' } }] }, route: { cluster: 'b' } },
      { match: { prefix: '/weighted' }, route: { weightedClusters: { clusters: [{ name: 'a', weight: 0 }, { name: 'b', weight: 100 }] } } },
      { match: { prefix: '/old/' }, route: { cluster: 'a', prefixRewrite: '/new/', hostRewriteLiteral: 'rewritten.example' } },
      { match: { path: '/redirect' }, redirect: { pathRedirect: '/elsewhere', responseCode: 'FOUND' } },
      { match: { path: '/direct' }, directResponse: { status: 418, body: { inlineString: 'short and stout' } } },
      { match: { prefix: '/missing' }, route: { cluster: 'nope' } },
      { match: { prefix: '/empty' }, route: { cluster: 'empty' } },
      { match: { prefix: '/mutate' }, route: { cluster: 'a' }, requestHeadersToAdd: [{ header: { key: 'x-added', value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' } }], responseHeadersToAdd: [{ header: { key: 'x-resp', value: 'yes' } }, { header: { key: 'x-start', value: '%START_TIME(%s)%' } }, { header: { key: 'x-host', value: '%HOSTNAME%' } }] },
      // A cookie hash policy with a ttl, to a hashing cluster and to a round-robin one.
      { match: { prefix: '/sticky' }, route: { cluster: 'ring', hashPolicy: [{ cookie: { name: 'sticky', ttl: { seconds: 60 } } }] } },
      { match: { prefix: '/unhashed' }, route: { cluster: 'rr', hashPolicy: [{ cookie: { name: 'sticky', ttl: { seconds: 60 } } }] } },
      { match: { prefix: '/' }, route: { cluster: 'a' } },
    ]);
    proxy = await startProxy(hcm({ routeConfig: routes }), (c) => {
      c.add({ name: 'a', hosts: [{ address: '127.0.0.1', port: a.port }] });
      c.add({ name: 'ring', hosts: [{ address: '127.0.0.1', port: a.port }] });
      c.add({ name: 'rr', hosts: [{ address: '127.0.0.1', port: a.port }], noHash: true });
      c.add({ name: 'b', hosts: [{ address: '127.0.0.1', port: b.port }] });
      c.add({ name: 'empty', hosts: [{ address: '127.0.0.1', port: 1, healthy: false }] });
    });
  });

  after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });

  it('routes by path to the default cluster and forwards method, path and body', async () => {
    const r = await request(`${proxy.url}/hello?x=1`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body);
    assert.equal(seen.tag, 'a');
    assert.equal(seen.url, '/hello?x=1');
    assert.equal(seen.method, 'POST');
    assert.equal(seen.body, 'payload');
    assert.match(seen.headers['x-request-id'], /^[0-9a-f-]{36}$/);
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(r.headers['server'], 'weft');
    assert.ok(r.headers['x-envoy-upstream-service-time'] !== undefined);
  });

  it('evaluates a route\'s hash policy only for a hashing load balancer: a cookie is minted for ring hash, none for round robin', async () => {
    const sticky = await request(`${proxy.url}/sticky`);
    assert.match(String(sticky.headers['set-cookie']), /^sticky="[0-9a-f]{16}"; Max-Age=60; HttpOnly$/);
    assert.equal(typeof proxy.clusters.cluster('ring')!.picks.at(-1)?.hash, 'number');
    const plain = await request(`${proxy.url}/unhashed`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['set-cookie'], undefined, 'Envoy computes no hash for a round-robin cluster, so mints no cookie');
    assert.equal(proxy.clusters.cluster('rr')!.picks.at(-1)?.hash, undefined);
  });

  it('routes by header', async () => {
    const r = await request(`${proxy.url}/header`, { headers: { 'x-pick': 'b' } });
    assert.equal(JSON.parse(r.body).tag, 'b');
    const r2 = await request(`${proxy.url}/header`, { headers: { 'x-pick': 'c' } });
    assert.equal(JSON.parse(r2.body).tag, 'a');
  });

  it('routes by weight', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await request(`${proxy.url}/weighted`);
      assert.equal(JSON.parse(r.body).tag, 'b');
    }
  });

  it('rewrites prefix and host, keeping the original path in x-envoy-original-path', async () => {
    const r = await request(`${proxy.url}/old/thing`);
    const seen = JSON.parse(r.body);
    assert.equal(seen.url, '/new/thing');
    assert.equal(seen.headers.host, 'rewritten.example');
    assert.equal(seen.headers['x-envoy-original-path'], '/old/thing');
  });

  it('applies route header mutations with substitution commands', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await request(`${proxy.url}/mutate`);
    assert.equal(JSON.parse(r.body).headers['x-added'], '127.0.0.1');
    assert.equal(r.headers['x-resp'], 'yes');
    // START_TIME with a format (epoch seconds), and the machine's name whatever the environment says.
    const start = Number(r.headers['x-start']);
    assert.ok(start >= before && start <= Math.ceil(Date.now() / 1000), String(r.headers['x-start']));
    assert.equal(r.headers['x-host'], hostname());
  });

  it('answers redirects and direct responses itself', async () => {
    const r = await request(`${proxy.url}/redirect`, { headers: { host: 'shop.example' } });
    assert.equal(r.status, 302);
    assert.equal(r.headers['location'], 'http://shop.example/elsewhere');
    assert.equal(r.headers['x-weft-error'], undefined);
    const d = await request(`${proxy.url}/direct`);
    assert.equal(d.status, 418);
    assert.equal(d.body, 'short and stout');
  });

  it('NC: an unknown cluster is a 503 naming it', async () => {
    const r = await request(`${proxy.url}/missing`);
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-weft-error'], 'cluster not found: nope');
    assert.match(r.body, /cluster not found: nope/);
    assert.equal(proxy.counter('http.test.no_cluster'), 1);
  });

  it('UH: no healthy upstream is a 503 naming the cluster, counted and logged', async () => {
    const before = proxy.counter('http.test.downstream_rq_5xx');
    const r = await request(`${proxy.url}/empty`);
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-weft-error'], 'no healthy upstream in empty');
    assert.equal(r.body, 'no healthy upstream in empty\n');
    assert.equal(proxy.counter('http.test.downstream_rq_5xx'), before + 1);
    assert.equal(proxy.counter('cluster.empty.upstream_cx_none_healthy'), 1);
    await waitFor(() => proxy.log.some((l) => logLine(l) === '503 UH no healthy upstream in empty'));
  });

  it('forwards absolute-form proxy requests by their authority', async () => {
    const out = await raw(proxy.port, `GET http://svc.example:8080/abs?q=1 HTTP/1.1\r\nHost: ignored.example\r\nConnection: close\r\n\r\n`);
    assert.match(out, /^HTTP\/1\.1 200/);
    const seen = JSON.parse(rawBody(out));
    assert.equal(seen.url, '/abs?q=1');
    assert.equal(seen.headers.host, 'svc.example:8080');
  });

  it('refuses HTTP/1.0 with 426 Upgrade Required when the listener does not accept it (Envoy\'s and Istio\'s default)', async () => {
    const protocolErrors = proxy.counter('http.test.downstream_cx_protocol_error');
    const out = await raw(proxy.port, 'GET /ten HTTP/1.0\r\nHost: x\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(out, /x-weft-error: upgrade required: client sent an HTTP\/1\.0 request, which this listener does not accept \(http_protocol_options\.accept_http_10\)/);
    assert.equal(proxy.counter('http.test.downstream_cx_protocol_error'), protocolErrors + 1);
  });

  it('HEAD keeps the upstream length without a body', async () => {
    const out = await raw(proxy.port, 'HEAD /head HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 200 /);
    assert.ok(out.endsWith('\r\n\r\n'), out);
  });

  it('removes hop-by-hop headers, including those named by Connection', async () => {
    const r = await request(`${proxy.url}/hop`, { headers: { connection: 'x-secret, keep-alive', 'x-secret': 'no', 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'gzip' } });
    const seen = JSON.parse(r.body);
    assert.equal(seen.headers['x-secret'], undefined);
    assert.equal(seen.headers['proxy-connection'], undefined);
    assert.equal(seen.headers['te'], undefined);
  });
});

describe('HCM no route (NR) and RDS', () => {
  let a: Server;
  let proxy: Proxy;

  before(async () => {
    a = await h1Server(echo('a'));
    proxy = await startProxy(hcm({ rds: { routeConfigName: 'r1', configSource: { ads: {} } } }), (c) => {
      c.add({ name: 'a', hosts: [{ address: '127.0.0.1', port: a.port }] });
    });
  });

  after(async () => {
    await proxy.close();
    await a.close();
  });

  it('asks the xDS client for its route name', async () => {
    await waitFor(() => proxy.subscriptions.calls.length > 0);
    assert.deepEqual(proxy.subscriptions.calls.at(-1), { typeUrl: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', names: ['r1'] });
  });

  it('answers 404 NR naming the missing route configuration before RDS arrives', async () => {
    const r = await request(`${proxy.url}/x`);
    assert.equal(r.status, 404);
    assert.match(String(r.headers['x-weft-error']), /no route for 127\.0\.0\.1:\d+\/x: route configuration "r1" not loaded/);
  });

  it('routes once RDS applies, and answers NR naming host and path for unmatched requests', async () => {
    const rc = { name: 'r1', virtualHosts: [{ name: 'vh', domains: ['svc.example'], routes: [{ match: { prefix: '/api' }, route: { cluster: 'a' } }] }] };
    assert.deepEqual(proxy.routes.validate('r1', rc), []);
    proxy.routes.apply(new Map([['r1', rc]]), [], false);
    const ok = await request(`${proxy.url}/api/v1`, { headers: { host: 'svc.example' } });
    assert.equal(ok.status, 200);
    const nr = await request(`${proxy.url}/other`, { headers: { host: 'svc.example' } });
    assert.equal(nr.status, 404);
    assert.equal(nr.headers['x-weft-error'], 'no route for svc.example/other');
    const nvh = await request(`${proxy.url}/api`, { headers: { host: 'unknown.example' } });
    assert.equal(nvh.headers['x-weft-error'], 'no route for unknown.example/api');
    assert.ok(proxy.log.some((l) => logLine(l) === '404 NR no route for svc.example/other'));
  });

  it('rejects a route configuration with problems (NACK) and keeps the last good one', async () => {
    const bad = { name: 'r1', virtualHosts: [{ name: 'vh', domains: ['svc.example'], routes: [{ match: { safeRegex: { regex: '(' } }, route: { cluster: 'a' } }] }] };
    const problems = proxy.routes.validate('r1', bad);
    assert.ok(problems.length > 0);
    const ok = await request(`${proxy.url}/api/v1`, { headers: { host: 'svc.example' } });
    assert.equal(ok.status, 200);
  });

  it('withdraws its route name when drained', async () => {
    proxy.filter.drain();
    await waitFor(() => proxy.subscriptions.calls.at(-1)?.names.length === 0);
  });
});
