/**
 * HTTP filters through the connection manager, configured per route as Istio does
 * (`typed_per_filter_config`): fault injection (abort FI, delay DI, gRPC abort, header-controlled
 * faults) and CORS (preflights, allowed and refused origins, response headers).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { echo, h1Server, h2request, hcm, logLine, request, routeConfig, startProxy, waitFor, type Proxy } from './support/hcm-harness.ts';

const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const CORS = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';
const ALL = { numerator: 100, denominator: 'HUNDRED' };

describe('HCM filters', () => {
  let up: Awaited<ReturnType<typeof h1Server>>;
  let proxy: Proxy;

  before(async () => {
    up = await h1Server(echo('up'));
    const cors = {
      '@type': CORS,
      allowOriginStringMatch: [{ exact: 'https://app.example' }, { suffix: '.trusted.example' }],
      allowMethods: 'GET,POST',
      allowHeaders: 'x-custom',
      exposeHeaders: 'x-upstream',
      maxAge: '600',
      allowCredentials: { value: true },
      forwardNotMatchingPreflights: { value: false },
    };
    const routes = routeConfig([
      { match: { prefix: '/abort' }, route: { cluster: 'up' }, typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, abort: { httpStatus: 418, percentage: ALL } } } },
      { match: { prefix: '/delay' }, route: { cluster: 'up' }, typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, delay: { fixedDelay: { seconds: 0, nanos: 150_000_000 }, percentage: ALL } } } },
      { match: { prefix: '/never-fault' }, route: { cluster: 'up' }, typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, abort: { httpStatus: 500, percentage: { numerator: 0 } } } } },
      { match: { prefix: '/grpc-abort' }, route: { cluster: 'up' }, typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, abort: { grpcStatus: 8, percentage: ALL } } } },
      { match: { prefix: '/header-fault' }, route: { cluster: 'up' }, typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, abort: { headerAbort: {}, percentage: ALL } } } },
      { match: { prefix: '/cors' }, route: { cluster: 'up' }, typedPerFilterConfig: { 'envoy.filters.http.cors': cors } },
      { match: { prefix: '/' }, route: { cluster: 'up' } },
    ]);
    proxy = await startProxy(hcm({ routeConfig: routes }), (c) => c.add({ name: 'up', hosts: [{ address: '127.0.0.1', port: up.port }] }));
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('FI: aborts with the configured status', async () => {
    const r = await request(`${proxy.url}/abort`);
    assert.equal(r.status, 418);
    assert.equal(r.headers['x-weft-error'], 'fault filter abort');
    assert.equal(proxy.counter('http.test.fault.aborts_injected'), 1);
    await waitFor(() => proxy.log.some((l) => logLine(l) === '418 FI fault filter abort'));
  });

  it('DI: delays, then forwards', async () => {
    const start = performance.now();
    const r = await request(`${proxy.url}/delay`);
    assert.equal(r.status, 200);
    assert.ok(performance.now() - start >= 140);
    assert.equal(proxy.counter('http.test.fault.delays_injected'), 1);
    await waitFor(() => proxy.log.some((l) => l.path === '/delay' && logLine(l) === '200 DI'));
  });

  it('injects nothing at 0%', async () => {
    assert.equal((await request(`${proxy.url}/never-fault`)).status, 200);
  });

  it('a gRPC abort answers gRPC requests with the gRPC status', async () => {
    const r = await h2request(proxy.url, { ':method': 'POST', ':path': '/grpc-abort', 'content-type': 'application/grpc', te: 'trailers' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['grpc-status'], '8');
    assert.equal(r.headers['grpc-message'], 'fault filter abort');
  });

  it('header-controlled aborts read x-envoy-fault-abort-request', async () => {
    assert.equal((await request(`${proxy.url}/header-fault`)).status, 200);
    assert.equal((await request(`${proxy.url}/header-fault`, { headers: { 'x-envoy-fault-abort-request': '503' } })).status, 503);
  });

  it('CORS: answers a preflight from an allowed origin', async () => {
    const r = await request(`${proxy.url}/cors`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(r.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(r.headers['access-control-allow-headers'], 'x-custom');
    assert.equal(r.headers['access-control-max-age'], '600');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['x-weft-error'], undefined);
    assert.equal(proxy.counter('http.test.cors.origin_valid'), 1);
  });

  it('CORS: a preflight from another origin gets no CORS headers (not forwarded)', async () => {
    const r = await request(`${proxy.url}/cors`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(r.body, '');
    assert.equal(proxy.counter('http.test.cors.origin_invalid'), 1);
  });

  it('CORS: adds allow-origin and expose-headers to actual requests from allowed origins', async () => {
    const r = await request(`${proxy.url}/cors`, { headers: { origin: 'https://a.trusted.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://a.trusted.example');
    assert.equal(r.headers['access-control-expose-headers'], 'x-upstream');
    const other = await request(`${proxy.url}/cors`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('rejects a route configuration whose per-route filter config is invalid', () => {
    const bad = routeConfig([{ match: { prefix: '/' }, route: { cluster: 'up' }, typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': FAULT, abort: { httpStatus: 99 } } } }]);
    const problems = proxy.routes.validate('test', bad);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /typedPerFilterConfig\.envoy\.filters\.http\.fault: abort\.httpStatus: must be in \[200, 600\) \(got 99\)/);
  });
});
