import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { TYPE } from '../../xds/type-urls.ts';
import { harness, names, nextTurn, node, until } from './fixtures.ts';
import type { Harness } from './fixtures.ts';
import { SlowSotwClient } from './testing.ts';
import type { Obj } from './testing.ts';

/** Clusters big enough (~200 KB in all) that a response outgrows an HTTP/2 window (64 KB) a paused client never reopens. */
function bigClusters(tag: string): Obj[] {
  return Array.from({ length: 8 }, (_, i) => ({
    name: `c${i}`, type: 'EDS', connectTimeout: { seconds: 1 }, edsClusterConfig: { serviceName: `${tag}-${'x'.repeat(25_000)}` },
  }));
}

const serviceTag = (res: Obj): string => String(res.resources[0].edsClusterConfig.serviceName).split('-')[0]!;

describe('ADS flow control', () => {
  let h: Harness | undefined;
  const clients: SlowSotwClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h?.close();
    h = undefined;
  });

  function slow(): SlowSotwClient {
    const c = new SlowSotwClient(h!.port);
    clients.push(c);
    return c;
  }

  const generatedFor = (id: string): number => h!.resources.generated.filter((g) => g.proxy === id).length;

  it('coalesces pushes for a client that stopped reading, and sends it only the latest state when it drains', async () => {
    h = await harness({ streamHighWaterBytes: 1 });
    h.resources.set(TYPE.cluster, bigClusters('a'));
    const c = slow();
    c.pause();
    c.send({ node: node('slow'), typeUrl: TYPE.cluster });
    await h.observer.waitFor((e) => e.kind === 'pushSent' && e.proxyId === 'slow');
    assert.ok(h.server.flow.inflightBytes > 100_000, 'the first response is still in flight');

    for (const tag of ['b', 'c', 'd']) {
      h.resources.set(TYPE.cluster, bigClusters(tag));
      h.resources.push({ proxies: ['slow'] });
      await nextTurn();
    }
    assert.equal(h.server.flow.backloggedStreams, 1);
    assert.equal(generatedFor('slow'), 1, 'nothing is generated for a stream that cannot take it');
    let idle = false;
    void h.server.idle().then(() => { idle = true; });
    await nextTurn();
    assert.equal(idle, false, 'idle() waits for the backlog');

    c.resume();
    assert.equal(serviceTag(await c.next()), 'a');
    const latest = await c.next();
    assert.equal(serviceTag(latest), 'd', 'the state at drain time, not a queued one');
    await h.server.idle();
    assert.equal(generatedFor('slow'), 2);
    c.send({ typeUrl: TYPE.cluster, versionInfo: latest.versionInfo, responseNonce: latest.nonce });
    c.send({ typeUrl: TYPE.route, resourceNames: ['r1'] });
    const rds = await c.next();
    assert.equal(rds.typeUrl, TYPE.route, 'nothing else was on its way');
    assert.equal(c.received, 3);
  });

  it("stops writing when gRPC's write() asks for 'drain', and resumes on it with the latest state", async () => {
    h = await harness({ streamHighWaterBytes: Infinity });
    h.resources.set(TYPE.cluster, bigClusters('v0'));
    const c = slow();
    c.pause();
    c.send({ node: node('drain'), typeUrl: TYPE.cluster });
    await h.observer.waitFor((e) => e.kind === 'pushSent' && e.proxyId === 'drain');
    for (let i = 1; i <= 24; i++) {
      h.resources.set(TYPE.cluster, bigClusters(`v${i}`));
      h.resources.push({ proxies: ['drain'] });
      await nextTurn();
    }
    assert.equal(h.server.flow.backloggedStreams, 1, "write() returned false: the stream waits for 'drain'");
    c.resume();
    await h.server.idle();
    const sent = h.observer.events.filter((e) => e.kind === 'pushSent' && e.proxyId === 'drain').length;
    assert.ok(sent < 24, `only what gRPC buffered, then the latest (sent ${sent})`);
    let last: Obj | undefined;
    for (let i = 0; i < sent; i++) last = await c.next();
    assert.equal(serviceTag(last!), 'v24');
  });

  it('makes streams wait for a spent write budget, first come first served, and resumes them as bytes drain', async () => {
    h = await harness({ maxInflightBytes: 1 });
    h.resources.set(TYPE.cluster, bigClusters('a'));
    const hog = slow();
    hog.pause();
    hog.send({ node: node('hog'), typeUrl: TYPE.cluster });
    await h.observer.waitFor((e) => e.kind === 'pushSent' && e.proxyId === 'hog');

    const waiting = h.client.sotw();
    waiting.send({ node: node('waiting'), typeUrl: TYPE.cluster });
    await until(() => h!.server.flow.waitingStreams === 1);
    assert.equal(generatedFor('waiting'), 0, 'a stream that may not write does not generate');

    hog.resume();
    assert.deepEqual(names(await waiting.next()), names(await hog.next()));
    await h.server.idle();
    assert.equal(h.server.flow.inflightBytes, 0);
    waiting.end();
  });

  it('stops counting a stream that makes no progress against the budget, so the others go on', async () => {
    h = await harness({ maxInflightBytes: 1, stallMs: 50 });
    h.resources.set(TYPE.cluster, bigClusters('a'));
    const stuck = slow();
    stuck.pause();
    stuck.send({ node: node('stuck'), typeUrl: TYPE.cluster });
    await h.observer.waitFor((e) => e.kind === 'pushSent' && e.proxyId === 'stuck');
    const other = h.client.sotw();
    other.send({ node: node('other'), typeUrl: TYPE.cluster });
    assert.equal((await other.next()).typeUrl, TYPE.cluster);
    assert.equal(stuck.received, 0);
    other.end();
  });

  it('gives back the budget a cancelled stream held', async () => {
    h = await harness({ maxInflightBytes: 1 });
    h.resources.set(TYPE.cluster, bigClusters('a'));
    const gone = slow();
    gone.pause();
    gone.send({ node: node('gone'), typeUrl: TYPE.cluster });
    await h.observer.waitFor((e) => e.kind === 'pushSent' && e.proxyId === 'gone');
    const next = h.client.sotw();
    next.send({ node: node('next'), typeUrl: TYPE.cluster });
    await until(() => h!.server.flow.waitingStreams === 1);
    gone.close();
    assert.equal((await next.next()).typeUrl, TYPE.cluster);
    await until(() => h!.server.flow.inflightBytes === 0);
    next.end();
  });
});

describe('ADS server shutdown with a client that stopped reading', () => {
  it('stop() completes though the stream cannot end gracefully', async () => {
    const h = await harness();
    h.resources.set(TYPE.cluster, bigClusters('a'));
    const c = new SlowSotwClient(h.port);
    try {
      c.pause();
      c.send({ node: node('paused'), typeUrl: TYPE.cluster });
      await h.observer.waitFor((e) => e.kind === 'pushSent' && e.proxyId === 'paused');
      let timer: NodeJS.Timeout | undefined;
      const guard = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('stop() did not complete'), 3000); });
      assert.equal(await Promise.race([h.close().then(() => 'stopped'), guard]), 'stopped');
      clearTimeout(timer);
    } finally {
      c.close();
    }
  });
});
