import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { FakeResourceServer } from '../../xds/fake-resource-server.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { cluster, endpoints, harness, names, node, until } from './fixtures.ts';
import type { Harness } from './fixtures.ts';
import { AdsServer } from './server.ts';
import { AdsTestClient } from './testing.ts';
import type { TestStream } from './testing.ts';

describe('ADS server', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses a stream whose first request has no node, or whose node the resource server refuses', async () => {
    h = await harness();
    const bare = h.client.sotw();
    bare.send({ typeUrl: TYPE.cluster });
    const s1 = await bare.status();
    assert.equal(s1.code, grpc.status.INVALID_ARGUMENT);
    assert.match(s1.details, /carries no node/);

    const noId = h.client.delta();
    noId.send({ node: { cluster: 'x' }, typeUrl: TYPE.cluster });
    assert.match((await noId.status()).details, /node has no id/);

    h.resources.refuse = 'unknown workload a.default';
    const refused = h.client.sotw();
    refused.send({ node: node('refused'), typeUrl: TYPE.cluster });
    const s3 = await refused.status();
    assert.equal(s3.code, grpc.status.INVALID_ARGUMENT);
    assert.match(s3.details, /unknown workload a\.default/);
    const err = await h.observer.waitFor((e) => e.kind === 'streamError' && e.code === 'REFUSED' && /a\.default/.test(String(e.message)));
    assert.equal(err.proxyId, undefined);
    assert.equal(h.server.connectionCount, 0);
    assert.equal(h.resources.connected.length, 0);
  });

  it('connects once, tracks the connection gauge and status, and disconnects when the stream ends', async () => {
    h = await harness();
    const s = h.client.sotw();
    s.send({ node: node('gauge'), typeUrl: TYPE.cluster });
    const cds = await s.next();
    assert.equal(h.server.connectionCount, 1);
    const [st] = h.server.status();
    assert.equal(st?.proxyId, 'gauge');
    assert.equal(st?.mode, 'sotw');
    assert.match(st?.peer ?? '', /127\.0\.0\.1/);
    assert.equal(st?.types[TYPE.cluster]?.versionSent, cds.versionInfo);
    assert.equal(st?.types[TYPE.cluster]?.nonce, cds.nonce);
    assert.ok((st?.types[TYPE.cluster]?.sentAt ?? 0) >= (st?.connectedAt ?? Infinity));
    s.end();
    assert.equal((await s.status()).code, grpc.status.OK);
    await h.observer.waitFor((e) => e.kind === 'connections' && e.count === 0);
    assert.equal(h.server.connectionCount, 0);
    assert.deepEqual(h.resources.connected.map((p) => p.id), ['gauge']);
    assert.deepEqual(h.resources.disconnected.map((p) => p.id), ['gauge']);

    const cancelled = h.client.delta();
    cancelled.send({ node: node('cancelled'), typeUrl: TYPE.cluster });
    await cancelled.next();
    assert.equal(h.server.connectionCount, 1);
    const mark = h.observer.events.length;
    cancelled.cancel();
    await h.observer.waitFor((e) => e.kind === 'connections' && e.count === 0 && h!.observer.events.indexOf(e) >= mark);
    assert.deepEqual(h.resources.disconnected.map((p) => p.id), ['gauge', 'cancelled']);
    assert.deepEqual(h.server.status(), []);
  });

  it('pushes only to the proxies an event names', async () => {
    h = await harness();
    const a = h.client.sotw();
    const b = h.client.sotw();
    a.send({ node: node('pa'), typeUrl: TYPE.cluster });
    b.send({ node: node('pb'), typeUrl: TYPE.cluster });
    await a.next();
    await b.next();
    h.resources.set(TYPE.cluster, [cluster('c9')]);
    h.resources.push({ proxies: ['pb'] });
    assert.deepEqual(names(await b.next()), ['c9']);
    await h.server.idle();
    assert.equal(h.resources.generated.filter((g) => g.proxy === 'pa').length, 1, 'pa was not regenerated');
    a.end();
    b.end();
  });

  it('holds requests from expectPush until the push that follows has fanned out: a proxy connecting with the change gets it in its first answer', async () => {
    h = await harness();
    const a = h.client.sotw();
    a.send({ node: node('pa'), typeUrl: TYPE.cluster });
    await a.next();
    h.server.expectPush();
    const b = h.client.sotw();
    b.send({ node: node('pb'), typeUrl: TYPE.cluster });
    await until(() => h!.server.flow.heldStreams === 1);
    assert.equal(h.resources.connected.some((p) => p.id === 'pb'), false, 'the held request is not decoded');
    h.resources.set(TYPE.cluster, [cluster('c9')]);
    h.resources.push();
    assert.deepEqual(names(await a.next()), ['c9']);
    assert.deepEqual(names(await b.next()), ['c9'], "the newcomer's first answer is made after the push");
    const order = h.resources.generated.map((g) => g.proxy);
    assert.ok(order.lastIndexOf('pa') < order.indexOf('pb'), `the fan-out went first: ${order.join(',')}`);
    a.end();
    b.end();
  });

  it('hands requests held since expectPush back when the push reaches no stream', async () => {
    h = await harness({ maxRequestHoldMs: 60_000 });
    const a = h.client.sotw();
    a.send({ node: node('pa'), typeUrl: TYPE.cluster });
    await a.next();
    h.server.expectPush();
    a.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1'] });
    await until(() => h!.server.flow.heldStreams === 1);
    h.resources.push({ proxies: ['nobody'] });
    assert.deepEqual(names(await a.next()), ['c1']);
    a.end();
  });

  it('hands the resource server the identical frozen names array for equal subscriptions, SotW and delta alike', async () => {
    h = await harness();
    const streams = [h.client.sotw(), h.client.sotw(), h.client.delta(), h.client.delta()];
    const lists = [['c2', 'c1'], ['c1', 'c2', 'c1'], ['c1', 'c2'], ['c2', 'c1']];
    streams.forEach((s, i) => {
      const key = s === streams[2] || s === streams[3] ? 'resourceNamesSubscribe' : 'resourceNames';
      s.send({ node: node(`intern-${i}`), typeUrl: TYPE.endpoint, [key]: lists[i] });
    });
    for (const s of streams) await s.next();
    const asked = h.resources.generated.filter((g) => g.proxy.startsWith('intern-')).map((g) => g.names);
    assert.equal(asked.length, 4);
    assert.deepEqual(asked[0], ['c1', 'c2']);
    assert.ok(Object.isFrozen(asked[0]));
    for (const names of asked) assert.equal(names, asked[0]);
    for (const s of streams) s.end();
  });

  it('delivers responses written into reused frame buffers intact, many streams at once', async () => {
    // Frame buffers go back to the pool only once the socket took them (frame-pool.ts): no response may see another's bytes.
    h = await harness();
    const all = Array.from({ length: 40 }, (_, i) => endpoints(`e${i}`, 1000 + i));
    for (const e of all) e.endpoints[0].lbEndpoints = Array.from({ length: 300 }, (_, k) => ({ endpoint: { address: { socketAddress: { address: `10.0.${k >> 8}.${k & 255}`, portValue: 1000 + k } } } }));
    h.resources.set(TYPE.endpoint, all);
    const streams = Array.from({ length: 20 }, (_, i) => {
      const s = h!.client.sotw();
      s.send({ node: node(`scratch-${i}`), typeUrl: TYPE.endpoint, resourceNames: [`e${i}`, `e${i + 20}`] });
      return s;
    });
    const responses = await Promise.all(streams.map((s) => s.next()));
    responses.forEach((res, i) => {
      assert.deepEqual(names(res), [`e${i + 20}`, `e${i}`].sort());
      for (const cla of res.resources) assert.equal(cla.endpoints[0].lbEndpoints.length, 300);
    });
    for (const s of streams) s.end();
  });

  it('times a push from its change to its last stream; a push that reaches no stream does not start the clock', async () => {
    h = await harness();
    h.resources.set(TYPE.cluster, [cluster('c1')]);
    const s = h.client.sotw();
    s.send({ node: node('timed'), typeUrl: TYPE.cluster });
    await s.next();
    h.resources.push({ proxies: ['nobody-connected'], changedAt: performance.now() - 60_000 });
    const changedAt = performance.now();
    h.resources.push({ types: [TYPE.cluster], changedAt });
    const done = await h.observer.waitFor((e) => e.kind === 'pushDone');
    assert.equal(done.streams, 1);
    assert.ok((done.latencyMs as number) < performance.now() - changedAt + 1, `latency ${String(done.latencyMs)} ms counts from the push that reached a stream`);
    s.end();
  });

  it('reports a failing generator and keeps the stream open', async () => {
    h = await harness();
    h.resources.failing.add(TYPE.route);
    const s = h.client.sotw();
    s.send({ node: node('gen-fail'), typeUrl: TYPE.route, resourceNames: ['r1'] });
    const err = await h.observer.waitFor((e) => e.kind === 'streamError' && e.code === 'GENERATE');
    assert.equal(err.proxyId, 'gen-fail');
    assert.match(String(err.message), /generator for .*RouteConfiguration failed/);
    s.send({ typeUrl: TYPE.cluster });
    assert.equal((await s.next()).typeUrl, TYPE.cluster);
    s.end();
  });

  it('spreads a push over event-loop turns, a batch of streams at a time', async () => {
    h = await harness({ batchSize: 4 });
    const streams: TestStream[] = [];
    for (let i = 0; i < 20; i++) {
      const s = h.client.sotw();
      s.send({ node: node(`many-${i}`), typeUrl: TYPE.cluster });
      streams.push(s);
    }
    for (const s of streams) await s.next();
    const sent = (): number => h!.observer.events.filter((e) => e.kind === 'pushSent' && String(e.proxyId).startsWith('many-')).length;
    const before = sent();
    h.resources.set(TYPE.cluster, [cluster('fresh')]);
    h.resources.push();
    assert.equal(sent() - before, 0, 'nothing is generated inside the push listener');
    const afterFirstTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(sent() - before)));
    assert.equal(afterFirstTurn, 4);
    await h.server.idle();
    assert.equal(sent() - before, 20);
    for (const s of streams) {
      assert.deepEqual(names(await s.next()), ['fresh']);
      s.end();
    }
  });

  it('ends streams with UNAVAILABLE on stop, and serves a reconnecting client after a restart', async () => {
    const resources = new FakeResourceServer();
    resources.set(TYPE.cluster, [cluster('c1')]);
    const first = new AdsServer({ resources });
    const port = await first.start({ host: '127.0.0.1', port: 0 });
    const client = new AdsTestClient(port);
    try {
      const s = client.sotw();
      s.send({ node: node('restart'), typeUrl: TYPE.cluster });
      await s.next();
      await first.stop();
      assert.equal((await s.status()).code, grpc.status.UNAVAILABLE);
      assert.deepEqual(resources.disconnected.map((p) => p.id), ['restart']);

      const second = new AdsServer({ resources });
      assert.equal(await second.start({ host: '127.0.0.1', port }), port);
      try {
        const again = client.sotw();
        again.send({ node: node('restart'), typeUrl: TYPE.cluster, versionInfo: 'old' });
        assert.deepEqual(names(await again.next()), ['c1']);
        again.end();
      } finally {
        await second.stop();
      }
    } finally {
      client.close();
    }
  });
});
