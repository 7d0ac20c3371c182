import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { request, type Dispatcher } from 'undici';
import { clustersJson, clustersText } from './admin.ts';
import type { Cluster } from './cluster.ts';
import type { HostImpl } from './host.ts';
import type { Harness } from './testing.ts';
import { closedPort, clusterResource, get, harness, loadAssignment, seededEnv } from './testing.ts';

const OUTLIER = { consecutive_5xx: { value: 2 }, interval: { seconds: 1 }, baseEjectionTime: { seconds: 30 }, maxEjectionPercent: { value: 100 } };

function edsCluster(name: string, extra: Record<string, unknown> = {}): ReturnType<typeof clusterResource> {
  return clusterResource({ name, type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: name }, outlierDetection: OUTLIER, ...extra });
}

function hostAt(c: Cluster, address: string): HostImpl {
  const h = c.hosts().find((x) => x.address === address);
  assert.ok(h !== undefined, `${address} in ${c.name}`);
  return h;
}

function picked(c: Cluster, n = 200): Set<string> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(c.pick({ hash: Math.imul(i + 1, 2654435761) >>> 0 })?.address ?? 'none');
  return seen;
}

describe('outlier detection in a cluster', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  for (const lbPolicy of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV']) {
    it(`${lbPolicy} skips an ejected host until it returns, through EDS updates`, (t) => {
      t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
      h = harness({ env: seededEnv(7), now: () => Date.now() });
      h.clusters([edsCluster('c', { lbPolicy })]);
      h.endpoints([loadAssignment('c', [['10.0.0.1', 80], ['10.0.0.2', 80], ['10.0.0.3', 80]])]);
      const c = h.manager.cluster('c')!;
      hostAt(c, '10.0.0.2').outlier!.putHttpStatus(503);
      assert.deepEqual([...picked(c)].sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3'], 'one 503 is under the threshold');
      hostAt(c, '10.0.0.2').outlier!.putHttpStatus(503);
      assert.deepEqual([...picked(c)].sort(), ['10.0.0.1', '10.0.0.3']);
      assert.equal(h.stats.gauge('cluster.c.membership_healthy').value, 2);
      assert.equal(h.stats.gauge('cluster.c.outlier_detection.ejections_active').value, 1);
      assert.equal(h.stats.counter('cluster.c.outlier_detection.ejections_enforced_consecutive_5xx').value, 1);
      assert.ok(clustersText(h.manager).includes('c::10.0.0.2:80::health_flags::/failed_outlier_check\n'), clustersText(h.manager));
      assert.ok(clustersText(h.manager).includes('c::10.0.0.1:80::health_flags::healthy\n'));
      // The host survives an EDS update (same address) still ejected; a new host is healthy.
      h.endpoints([loadAssignment('c', [['10.0.0.1', 80], ['10.0.0.2', 80], ['10.0.0.3', 80], ['10.0.0.4', 80]])]);
      assert.deepEqual([...picked(c)].sort(), ['10.0.0.1', '10.0.0.3', '10.0.0.4']);
      assert.equal(h.stats.gauge('cluster.c.outlier_detection.ejections_active').value, 1);
      // Back at the first interval tick after 30 s.
      for (let s = 0; s < 29; s++) t.mock.timers.tick(1000);
      assert.ok(!picked(c).has('10.0.0.2'), 'still out after 29 s');
      t.mock.timers.tick(1000);
      assert.ok(picked(c).has('10.0.0.2'));
      assert.ok(clustersText(h.manager).includes('c::10.0.0.2:80::health_flags::healthy\n'));
      assert.equal(h.stats.gauge('cluster.c.outlier_detection.ejections_active').value, 0);
    });
  }

  it('keeps ejections across a CDS update that keeps the hosts, and returns every host when outlier detection is removed', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    h = harness({ env: seededEnv(1), now: () => Date.now() });
    h.clusters([edsCluster('c')]);
    h.endpoints([loadAssignment('c', [['10.0.0.1', 80], ['10.0.0.2', 80]])]);
    const first = h.manager.cluster('c')!;
    for (let i = 0; i < 2; i++) hostAt(first, '10.0.0.1').outlier!.putHttpStatus(500);
    h.clusters([edsCluster('c', { lbPolicy: 'RANDOM' })]);
    const second = h.manager.cluster('c')!;
    assert.notEqual(second, first);
    assert.deepEqual([...picked(second)], ['10.0.0.2']);
    assert.equal(h.stats.gauge('cluster.c.outlier_detection.ejections_active').value, 1);
    const json = JSON.stringify(clustersJson(h.manager));
    assert.match(json, /"address":"10\.0\.0\.1".*?"failed_outlier_check":true/);
    h.clusters([clusterResource({ name: 'c', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: 'c' } })]);
    assert.deepEqual([...picked(h.manager.cluster('c')!)].sort(), ['10.0.0.1', '10.0.0.2']);
    assert.equal(hostAt(h.manager.cluster('c')!, '10.0.0.1').outlier, undefined);
    assert.equal(h.stats.gauge('cluster.c.outlier_detection.ejections_active').value, 0, 'no host is ejected any more');
  });

  it('balances over ejected hosts in panic, as over unhealthy ones, and over none with the panic threshold at 0', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    h = harness({ env: seededEnv(3), now: () => Date.now() });
    h.clusters([edsCluster('panic'), edsCluster('strict', { commonLbConfig: { healthyPanicThreshold: { value: 0 } } })]);
    for (const name of ['panic', 'strict']) {
      h.endpoints([loadAssignment(name, [['10.0.0.1', 80], ['10.0.0.2', 80], ['10.0.0.3', 80]])]);
      const c = h.manager.cluster(name)!;
      for (const a of ['10.0.0.1', '10.0.0.2']) for (let i = 0; i < 2; i++) hostAt(c, a).outlier!.putHttpStatus(503);
    }
    assert.deepEqual([...picked(h.manager.cluster('panic')!)].sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3'], '1 healthy of 3 is under 50 %: panic');
    assert.ok(h.stats.counter('cluster.panic.lb_healthy_panic').value > 0);
    assert.deepEqual([...picked(h.manager.cluster('strict')!)], ['10.0.0.3']);
    for (let i = 0; i < 2; i++) hostAt(h.manager.cluster('strict')!, '10.0.0.3').outlier!.putHttpStatus(503);
    assert.deepEqual([...picked(h.manager.cluster('strict')!)], ['none']);
  });

  it('hears responses and connect failures from the pools: a host answering 503, then one refusing connections', async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/fail' ? 503 : 200;
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const refused = await closedPort();
      h = harness();
      h.clusters([edsCluster('c')]);
      h.endpoints([loadAssignment('c', [['127.0.0.1', port], ['127.0.0.2', refused]])]);
      const c = h.manager.cluster('c')!;
      const good = hostAt(c, '127.0.0.1');
      assert.equal((await get(c.dispatcher(good), '/fail')).status, 503);
      assert.equal((await get(c.dispatcher(good), '/')).status, 200, 'a success resets the count');
      assert.equal((await get(c.dispatcher(good), '/fail')).status, 503);
      assert.equal(good.ejected, false);
      assert.equal((await get(c.dispatcher(good), '/fail')).status, 503);
      assert.equal(good.ejected, true);
      const bad = hostAt(c, '127.0.0.2');
      for (let i = 0; i < 2; i++) await assert.rejects(get(c.dispatcher(bad)));
      assert.equal(bad.ejected, true, 'connect failures count as 5xx without the split');
      assert.equal(h.stats.counter('cluster.c.outlier_detection.ejections_enforced_total').value, 2);
    } finally {
      await h?.close();
      h = undefined;
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('maps grpc-status to an HTTP status for gRPC requests only, as Envoy\'s router', async () => {
    // 200 with grpc-status 14 (UNAVAILABLE): a failed gRPC call, which counts as a 503.
    const server = http.createServer((_req, res) => {
      res.setHeader('grpc-status', '14');
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      h = harness();
      h.clusters([edsCluster('c')]);
      h.endpoints([loadAssignment('c', [['127.0.0.1', (server.address() as AddressInfo).port]])]);
      const c = h.manager.cluster('c')!;
      const host = hostAt(c, '127.0.0.1');
      const call = async (contentType: string): Promise<void> => {
        const res = await request('http://upstream/', { dispatcher: c.dispatcher(host) as unknown as Dispatcher, method: 'POST', headers: { host: 'upstream', 'content-type': contentType }, body: '' });
        await res.body.text();
      };
      for (let i = 0; i < 3; i++) await call('application/json');
      assert.equal(host.ejected, false, 'not a gRPC request: its 200 is a success');
      await call('application/grpc');
      await call('application/grpc+proto');
      assert.equal(host.ejected, true, 'two failed gRPC calls in a row');
    } finally {
      await h?.close();
      h = undefined;
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
