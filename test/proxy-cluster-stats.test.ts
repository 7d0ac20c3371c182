/**
 * Cluster statistics with the real cluster manager behind the router (a real proxy against an ADS
 * server): each request, completion, connection attempt, connect failure and circuit-breaker overflow
 * is counted once, under Envoy's names, as Istio's tasks read them (`upstream_rq_pending_overflow` in
 * the circuit-breaking task).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Proxy } from '../src/proxy/proxy.ts';
import { parseBootstrap } from '../src/proxy/bootstrap.ts';
import { TYPE } from '../src/xds/type-urls.ts';
import { TestXdsServer } from './support/xds-test-server.ts';
import { waitFor } from './support/control-process.ts';
import { closedPort } from './support/tcp-servers.ts';
import { request } from './support/http-peers.ts';

const ROUTER = { name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

function staticCluster(name: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name, type: 'STATIC', connectTimeout: { seconds: 1 },
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } }] }] },
    ...extra,
  };
}

describe('cluster statistics (real cluster manager, real upstreams)', () => {
  let server: TestXdsServer;
  let proxy: Proxy;
  let upstream: http.Server;
  let port: number;
  const held: http.ServerResponse[] = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      if (req.url?.endsWith('/hold') === true) held.push(res);
      else res.end('ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upPort = (upstream.address() as AddressInfo).port;
    server = await TestXdsServer.start({ delta: true });
    port = await closedPort();
    const routes = [
      { match: { prefix: '/guarded' }, route: { cluster: 'guarded' } },
      { match: { prefix: '/dead' }, route: { cluster: 'dead' } },
      { match: { prefix: '/' }, route: { cluster: 'up' } },
    ];
    server.resources.set(TYPE.listener, [{
      name: 'http', address: { socketAddress: { address: '127.0.0.1', portValue: port } },
      filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        statPrefix: 'http', routeConfig: { name: 'local', virtualHosts: [{ name: 'vh', domains: ['*'], routes }] }, httpFilters: [ROUTER],
      } }] }],
    }]);
    server.resources.set(TYPE.cluster, [
      staticCluster('up', upPort),
      staticCluster('dead', await closedPort()),
      staticCluster('guarded', upPort, { circuitBreakers: { thresholds: [{ maxRequests: { value: 1 }, maxPendingRequests: { value: 1 } }] } }),
    ]);
    const bootstrap = parseBootstrap('sidecar', { control: server.address, name: 'w', ip: '127.0.0.1' }, {});
    proxy = await Proxy.start({ bootstrap, ports: { admin: 0, health: 0, prometheus: 0 }, logSink: () => {}, drainTimeoutMs: 100 });
    await proxy.whenReady();
  });

  after(async () => {
    await proxy.stop();
    await server.stop();
    for (const res of held) res.end();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const stat = (name: string): number => proxy.stats.counter(name).value;

  it('counts one request and one completion per request, one connection per connection', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await request(`http://127.0.0.1:${port}/x`)).status, 200);
    assert.equal(stat('cluster.up.upstream_rq_total'), 3);
    assert.equal(stat('cluster.up.upstream_rq_completed'), 3);
    assert.equal(stat('cluster.up.upstream_rq_200'), 3);
    assert.equal(stat('cluster.up.upstream_cx_total'), 1, 'the pool reuses its keep-alive connection');
    assert.equal(stat('http.http.downstream_rq_total'), 3);
  });

  it('counts every failed connection attempt once, in upstream_cx_total and upstream_cx_connect_fail', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await request(`http://127.0.0.1:${port}/dead`);
      assert.equal(r.status, 503);
      assert.match(String(r.headers['x-weft-error']), /^upstream connect error to 127\.0\.0\.1:\d+ in dead/);
    }
    await waitFor('the failed sockets to close', () => proxy.stats.counter('cluster.dead.upstream_cx_destroy').value === 2 || undefined);
    assert.equal(stat('cluster.dead.upstream_cx_connect_fail'), 2);
    assert.equal(stat('cluster.dead.upstream_cx_total'), 2);
    assert.equal(proxy.stats.gauge('cluster.dead.upstream_cx_active').value, 0);
  });

  it('counts a circuit-breaker overflow once', async () => {
    const first = request(`http://127.0.0.1:${port}/guarded/hold`);
    await waitFor('the first request to reach the upstream', () => held.length === 1 || undefined);
    const r = await request(`http://127.0.0.1:${port}/guarded/over`);
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-envoy-overloaded'], 'true');
    assert.equal(stat('cluster.guarded.upstream_rq_pending_overflow'), 1);
    held.shift()!.end('released');
    assert.equal((await first).status, 200);
    assert.equal(stat('cluster.guarded.upstream_rq_total'), 1);
    assert.equal(stat('cluster.guarded.upstream_rq_completed'), 1);
  });
});
