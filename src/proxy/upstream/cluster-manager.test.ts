import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { TYPE } from '../../xds/type-urls.ts';
import type { Harness, Upstream } from './testing.ts';
import { clusterResource, get, harness, http1Upstream, idle, loadAssignment } from './testing.ts';

function edsCluster(name: string, extra: Record<string, unknown> = {}): ReturnType<typeof clusterResource> {
  return clusterResource({ name, type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} }, serviceName: `svc-${name}` }, ...extra });
}

describe('cluster manager', () => {
  let h: Harness | undefined;
  const upstreams: Upstream[] = [];
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await Promise.all(upstreams.splice(0).map((u) => u.close()));
  });

  it('asks for exactly the EDS service names of its EDS clusters, whenever that set changes', () => {
    h = harness();
    h.clusters([edsCluster('a'), edsCluster('b'), clusterResource({ name: 'static', loadAssignment: { clusterName: 'static' } })]);
    assert.deepEqual(h.subscriptions.calls, [{ typeUrl: TYPE.endpoint, names: ['svc-a', 'svc-b'] }]);
    h.clusters([edsCluster('a'), edsCluster('b'), clusterResource({ name: 'static', loadAssignment: { clusterName: 'static' } })]);
    assert.equal(h.subscriptions.calls.length, 1, 'an unchanged set is not asked for again');
    h.clusters([edsCluster('b'), clusterResource({ name: 'c', type: 'EDS' })]);
    assert.deepEqual(h.subscriptions.last, ['c', 'svc-b']);
    assert.equal(h.manager.cluster('a'), undefined);
    assert.equal(h.manager.cluster('static'), undefined);
    // Delta: only the named removal applies.
    h.manager.cdsHandler.apply(new Map(), ['b'], false);
    assert.deepEqual(h.subscriptions.last, ['c']);
    assert.ok(h.manager.cluster('c') !== undefined);
  });

  it('keeps the same cluster object for an unchanged resource and replaces a changed one', () => {
    h = harness();
    h.clusters([edsCluster('a')]);
    const first = h.manager.cluster('a');
    h.clusters([edsCluster('a')]);
    assert.equal(h.manager.cluster('a'), first);
    h.clusters([edsCluster('a', { lbPolicy: 'RANDOM' })]);
    assert.notEqual(h.manager.cluster('a'), first);
    assert.equal(h.manager.cluster('a')?.config.lb?.policy.name, 'RANDOM');
  });

  it('rejects a cluster whose resource name differs from its name', () => {
    h = harness();
    assert.deepEqual(h.manager.cdsHandler.validate('x', edsCluster('y')), ['name: does not match the resource name "x"']);
  });

  it('gives EDS clusters their endpoints, including ones that arrived before the cluster', () => {
    h = harness();
    h.endpoints([loadAssignment('svc-late', [['10.0.0.9', 80]])]);
    h.clusters([edsCluster('early'), edsCluster('late')]);
    assert.deepEqual(h.manager.warming(), ['early']);
    assert.equal(h.manager.cluster('late')?.pick()?.address, '10.0.0.9');
    assert.equal(h.manager.cluster('early')?.pick(), undefined);
    const changes: string[] = [];
    h.manager.onChange((n) => changes.push(n));
    h.endpoints([loadAssignment('svc-early', [['10.0.0.1', 80], ['10.0.0.2', 80]])]);
    assert.deepEqual(changes, ['early']);
    assert.deepEqual(h.manager.warming(), []);
    const seen = new Set([1, 2, 3, 4].map(() => h!.manager.cluster('early')?.pick()?.address));
    assert.deepEqual([...seen].sort(), ['10.0.0.1', '10.0.0.2']);
    assert.equal(h.stats.gauge('cluster.early.membership_total').value, 2);
    assert.equal(h.stats.gauge('cluster.early.membership_healthy').value, 2);
    h.endpoints([], ['svc-early']);
    assert.equal(h.manager.cluster('early')?.pick(), undefined);
    assert.equal(h.stats.gauge('cluster.early.membership_total').value, 0);
    assert.equal(h.stats.gauge('cluster.late.membership_total').value, 1);
    h.clusters([edsCluster('early')]);
    assert.equal(h.stats.gauge('cluster.late.membership_total').value, 0, 'a removed cluster\'s membership drops to 0');
  });

  it('keeps a surviving host\'s pool and kept-alive connection across EDS updates, and drains removed hosts', async () => {
    h = harness();
    const a = await http1Upstream();
    const b = await http1Upstream();
    upstreams.push(a, b);
    h.clusters([edsCluster('web')]);
    h.endpoints([loadAssignment('svc-web', [['127.0.0.1', a.port]])]);
    const web = h.manager.cluster('web')!;
    const hostA = web.pick()!;
    const dispatcherA = web.dispatcher(hostA);
    assert.deepEqual(await get(dispatcherA, '/one'), { status: 200, body: 'ok /one' });
    await idle(dispatcherA);

    // B joins and A's weight changes: A gets a new host view but keeps its pool and connection.
    h.endpoints([loadAssignment('svc-web', [['127.0.0.1', a.port, { loadBalancingWeight: { value: 2 } }], ['127.0.0.1', b.port]])]);
    const hostA2 = web.hosts().find((x) => x.port === a.port)!;
    assert.notEqual(hostA2, hostA);
    assert.equal(hostA2.weight, 2);
    assert.equal(web.dispatcher(hostA2), dispatcherA);
    assert.deepEqual(await get(web.dispatcher(hostA2), '/two'), { status: 200, body: 'ok /two' });
    assert.equal(a.connections, 1);
    assert.equal(a.remotePorts[1], a.remotePorts[0], 'the second request reused the first connection');

    // A leaves while a request is in flight: that request completes, then A's pool closes.
    const hostB = web.hosts().find((x) => x.port === b.port)!;
    const inflight = get(web.dispatcher(hostA2), '/hold');
    await a.held();
    h.endpoints([loadAssignment('svc-web', [['127.0.0.1', b.port]])]);
    assert.equal(web.hosts().length, 1);
    assert.equal(web.dispatcher(hostB), web.dispatcher(web.pick()!));
    a.release();
    assert.deepEqual(await inflight, { status: 200, body: 'ok /hold' });
    await new Promise<void>((resolve) => {
      const check = (): void => { if ((dispatcherA as unknown as { pool: { closed: boolean } }).pool.closed) resolve(); else setImmediate(check); };
      check();
    });
    await assert.rejects(get(dispatcherA, '/late'), /closed/i);
    assert.equal(h.stats.counter('cluster.web.membership_change').value, 3);
  });

  it('serves a stream of requests without a failure while EDS keeps changing the hosts under it', async () => {
    const us = [await http1Upstream(), await http1Upstream(), await http1Upstream()];
    upstreams.push(...us);
    h = harness();
    h.clusters([edsCluster('web', { lbPolicy: 'LEAST_REQUEST' })]);
    const sets = [[0, 1], [1, 2], [2, 0], [0], [0, 1, 2]];
    const apply = (i: number): void => h!.endpoints([loadAssignment('svc-web', sets[i % sets.length]!.map((u) => ['127.0.0.1', us[u]!.port] as const))]);
    apply(0);
    const web = h.manager.cluster('web')!;
    let sent = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (sent < 400) {
        const n = sent++;
        if (n % 20 === 0) apply(n / 20);
        const host = web.pick()!;
        const res = await get(web.dispatcher(host), `/${n}`).catch(() => undefined);
        if (res?.body !== `ok /${n}`) failed++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.equal(failed, 0);
    assert.equal(us.reduce((s, u) => s + u.remotePorts.length, 0), 400);
    assert.equal(web.counter('upstream_rq_active').value, 0);
  });

  it('keeps pools across a CDS update that leaves pool settings alone, and starts new ones when they change', async () => {
    h = harness();
    const a = await http1Upstream();
    upstreams.push(a);
    h.clusters([edsCluster('web')]);
    h.endpoints([loadAssignment('svc-web', [['127.0.0.1', a.port]])]);
    const before = h.manager.cluster('web')!;
    const d = before.dispatcher(before.pick()!);
    await get(d, '/');
    await idle(d);
    h.clusters([edsCluster('web', { lbPolicy: 'LEAST_REQUEST' })]);
    const after = h.manager.cluster('web')!;
    assert.notEqual(after, before);
    assert.equal(after.dispatcher(after.pick()!), d);
    await get(after.dispatcher(after.pick()!), '/');
    assert.equal(a.connections, 1);
    h.clusters([edsCluster('web', { connectTimeout: { seconds: 2 } })]);
    const third = h.manager.cluster('web')!;
    assert.notEqual(third.dispatcher(third.pick()!), d);
  });

  it('counts requests and connections under cluster.<name>.', async () => {
    h = harness();
    const a = await http1Upstream();
    upstreams.push(a);
    h.clusters([clusterResource({ name: 'static', altStatName: 'st', loadAssignment: loadAssignment('static', [['127.0.0.1', a.port]]) })]);
    const c = h.manager.cluster('static')!;
    const d = c.dispatcher(c.pick()!);
    await get(d, '/');
    await idle(d);
    await get(d, '/');
    const counter = (n: string): number => c.counter(n).value;
    assert.equal(counter('upstream_rq_total'), 2);
    assert.equal(counter('upstream_rq_completed'), 2);
    assert.equal(counter('upstream_rq_active'), 0);
    assert.equal(counter('upstream_rq_pending_active'), 0);
    assert.equal(counter('upstream_cx_total'), 1);
    assert.equal(counter('upstream_cx_http1_total'), 1);
    assert.equal(counter('upstream_cx_active'), 1);
    assert.equal(h.stats.counter('cluster.st.upstream_rq_total').value, 2, 'alt_stat_name is the stat prefix');
    const host = c.hosts()[0]!;
    assert.deepEqual(host.state.counters, { cxActive: 1, cxConnectFail: 0, cxTotal: 1, rqActive: 0, rqError: 0, rqSuccess: 2, rqTimeout: 0, rqTotal: 2 });
    await h.close();
    h = undefined;
    assert.equal(counter('upstream_cx_active'), 0);
  });
});
