import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { parseDestination } from './original-dst.ts';
import type { Harness, Upstream } from './testing.ts';
import { clusterResource, eventually, get, harness, http1Upstream } from './testing.ts';

describe('ORIGINAL_DST', () => {
  let h: Harness | undefined;
  const upstreams: Upstream[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await Promise.all(upstreams.splice(0).map((u) => u.close()));
  });

  it('parses ip:port, [ip6]:port and name:port destinations', () => {
    assert.deepEqual(parseDestination('10.0.0.1:80'), { address: '10.0.0.1', port: 80 });
    assert.deepEqual(parseDestination('[::1]:8080'), { address: '::1', port: 8080 });
    assert.deepEqual(parseDestination('example.com:443'), { address: 'example.com', port: 443 });
    assert.deepEqual(parseDestination('10.0.0.1', 9090), { address: '10.0.0.1', port: 9090 });
    for (const bad of ['10.0.0.1', '::1:80', '[::1:80', '[10.0.0.1]:80', '10.0.0.1:0', '10.0.0.1:65536', 'a b:80', ':80', '10.0.0.1:8x']) {
      assert.equal(parseDestination(bad), undefined, bad);
    }
  });

  it('makes hosts on demand from the destination, reuses them, and removes them once idle for a cleanup interval', async () => {
    const u = await http1Upstream();
    upstreams.push(u);
    h = harness();
    h.clusters([clusterResource({
      name: 'PassthroughCluster', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', cleanupInterval: { nanos: 50_000_000 },
      originalDstLbConfig: { useHttpHeader: true, httpHeaderName: 'x-envoy-original-dst-host' },
    })]);
    const c = h.manager.cluster('PassthroughCluster')!;
    assert.equal(c.originalDstHeader, 'x-envoy-original-dst-host');
    assert.equal(c.pick(), undefined);
    const dest = `127.0.0.1:${u.port}`;
    const host = c.pick({ originalDestination: dest })!;
    assert.deepEqual([host.address, host.port], ['127.0.0.1', u.port]);
    assert.equal(c.pick({ originalDestination: dest }), host);
    assert.deepEqual(await get(c.dispatcher(host), '/od'), { status: 200, body: 'ok /od' });
    assert.equal(c.counter('membership_total').value, 1);
    assert.equal(c.pick({ originalDestination: 'not a destination' }), undefined);
    assert.equal(c.counter('original_dst_host_invalid').value, 1);
    // Unused for a whole interval: removed and its pool closed.
    const pool = (c.dispatcher(host) as unknown as { pool: { closed: boolean } }).pool;
    await eventually(() => c.hosts().length === 0);
    assert.equal(pool.closed, true);
    assert.equal(c.counter('membership_total').value, 0);
    const again = c.pick({ originalDestination: dest })!;
    assert.notEqual(again, host);
    assert.deepEqual(await get(c.dispatcher(again), '/again'), { status: 200, body: 'ok /again' });
  });

  it('applies upstream_port_override', () => {
    h = harness();
    h.clusters([clusterResource({ name: 'od', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', originalDstLbConfig: { upstreamPortOverride: { value: 15006 } } })]);
    const c = h.manager.cluster('od')!;
    assert.equal(c.originalDstHeader, undefined);
    assert.equal(c.pick({ originalDestination: '10.1.1.1:80' })?.port, 15006);
    assert.equal(c.pick({ originalDestination: '10.1.1.2' })?.port, 15006);
  });
});
