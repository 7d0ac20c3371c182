import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TYPE } from '../../xds/type-urls.ts';
import { Barrier, cluster, endpoints, harness, listener, names, node, route } from './fixtures.ts';
import type { Harness } from './fixtures.ts';
import type { Obj, TestStream } from './testing.ts';

describe('ADS state of the world', () => {
  let h: Harness;
  before(async () => { h = await harness(); });
  after(async () => { await h.close(); });

  /** Opens a stream subscribed to wildcard CDS, returning it with the first response. */
  async function open(id: string): Promise<{ s: TestStream; cds: Obj }> {
    const s = h.client.sotw();
    s.send({ node: node(id), typeUrl: TYPE.cluster });
    return { s, cds: await s.next() };
  }

  it('answers wildcard CDS and LDS with every resource, with a version and a nonce', async () => {
    const { s, cds } = await open('wildcard');
    assert.equal(cds.typeUrl, TYPE.cluster);
    assert.deepEqual(names(cds), ['c1', 'c2']);
    assert.equal(cds.resources[0]['@type'], TYPE.cluster);
    assert.ok(cds.versionInfo !== '' && cds.nonce !== '');
    assert.equal(cds.controlPlane.identifier, 'weft-test');
    s.send({ typeUrl: TYPE.listener, resourceNames: ['*'] });
    const lds = await s.next();
    assert.deepEqual(names(lds), ['l1', 'l2']);
    assert.notEqual(lds.nonce, cds.nonce);
    const connected = h.resources.connected.find((p) => p.id === 'wildcard');
    assert.equal(connected?.node.metadata.NAMESPACE, 'default');
    assert.deepEqual(connected?.node.metadata.LABELS, { app: 'a' });
    s.end();
  });

  it('answers named RDS and EDS with only the names asked for', async () => {
    const { s } = await open('named');
    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c2'] });
    const eds = await s.next();
    assert.equal(eds.typeUrl, TYPE.endpoint);
    assert.deepEqual(names(eds), ['c2']);
    s.send({ typeUrl: TYPE.route, resourceNames: ['r1', 'missing'] });
    const rds = await s.next();
    assert.deepEqual(names(rds), ['r1']);
    assert.deepEqual(h.server.status().find((x) => x.proxyId === 'named')?.types[TYPE.route]?.subscribed, ['missing', 'r1']);
    s.end();
  });

  it('records an ACK with its latency, and a NACK without resending the rejected version', async () => {
    const { s, cds } = await open('acker');
    s.send({ typeUrl: TYPE.cluster, versionInfo: cds.versionInfo, responseNonce: cds.nonce });
    const ack = await h.observer.waitFor((e) => e.kind === 'ack' && e.proxyId === 'acker');
    assert.equal(ack.version, cds.versionInfo);
    assert.ok(typeof ack.latencyMs === 'number' && ack.latencyMs >= 0);
    const cdsStatus = h.server.status().find((x) => x.proxyId === 'acker')?.types[TYPE.cluster];
    assert.equal(cdsStatus?.versionAcked, cds.versionInfo);
    assert.equal(cdsStatus?.subscribed, '*');

    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1'] });
    const eds = await s.next();
    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1'], versionInfo: '', responseNonce: eds.nonce, errorDetail: { code: 3, message: 'bad endpoint' } });
    const nack = await h.observer.waitFor((e) => e.kind === 'nack' && e.proxyId === 'acker');
    assert.equal(nack.message, 'bad endpoint');
    assert.equal(nack.version, eds.versionInfo);
    const edsStatus = h.server.status().find((x) => x.proxyId === 'acker')?.types[TYPE.endpoint];
    assert.deepEqual({ version: edsStatus?.nack?.version, message: edsStatus?.nack?.message }, { version: eds.versionInfo, message: 'bad endpoint' });
    assert.equal(edsStatus?.versionAcked, undefined);

    const barrier = new Barrier(s, h.server);
    h.resources.push({ proxies: ['acker'] });
    await barrier.check(); // the same (rejected) version is not sent again
    h.resources.set(TYPE.endpoint, [endpoints('c1', 9081), endpoints('c2')]);
    h.resources.push({ proxies: ['acker'], types: [TYPE.endpoint] });
    const fixed = await s.next();
    assert.equal(fixed.typeUrl, TYPE.endpoint);
    assert.notEqual(fixed.versionInfo, eds.versionInfo);
    s.end();
  });

  it('ignores a request whose nonce is stale, and answers the names once the latest nonce is ACKed', async () => {
    const { s } = await open('stale');
    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1'] });
    const first = await s.next();
    h.resources.set(TYPE.endpoint, [endpoints('c1', 9090), endpoints('c2')]);
    h.resources.push({ proxies: ['stale'], types: [TYPE.endpoint] });
    const second = await s.next();
    assert.notEqual(second.nonce, first.nonce);

    const barrier = new Barrier(s, h.server);
    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1', 'c2'], versionInfo: first.versionInfo, responseNonce: first.nonce, errorDetail: { message: 'stale nack' } });
    await barrier.check(); // no answer to the stale request
    const st = h.server.status().find((x) => x.proxyId === 'stale')?.types[TYPE.endpoint];
    assert.equal(st?.nack, undefined);
    assert.deepEqual(st?.subscribed, ['c1']);

    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1', 'c2'], versionInfo: second.versionInfo, responseNonce: second.nonce });
    const third = await s.next();
    assert.equal(third.typeUrl, TYPE.endpoint);
    assert.deepEqual(names(third), ['c1', 'c2']);
    s.end();
  });

  it('answers a changed subscription at once, even at an unchanged version', async () => {
    const { s } = await open('resub');
    s.send({ typeUrl: TYPE.route, resourceNames: ['r1'] });
    const r1 = await s.next();
    s.send({ typeUrl: TYPE.route, resourceNames: ['r1', 'r2'], versionInfo: r1.versionInfo, responseNonce: r1.nonce });
    const both = await s.next();
    assert.deepEqual(names(both), ['r1', 'r2']);
    s.send({ typeUrl: TYPE.route, resourceNames: ['r2'], versionInfo: both.versionInfo, responseNonce: both.nonce });
    assert.deepEqual(names(await s.next()), ['r2']);
    s.end();
  });

  it('pushes only the changed RouteConfigurations and ClusterLoadAssignments, but full Listener and Cluster sets', async () => {
    h.resources.set(TYPE.endpoint, [endpoints('c1'), endpoints('c2')]);
    const { s, cds } = await open('partial');
    s.send({ typeUrl: TYPE.cluster, versionInfo: cds.versionInfo, responseNonce: cds.nonce });
    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1', 'c2'] });
    const first = await s.next();
    assert.deepEqual(names(first), ['c1', 'c2'], 'a new subscription gets everything');
    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1', 'c2'], versionInfo: first.versionInfo, responseNonce: first.nonce });
    h.resources.set(TYPE.endpoint, [endpoints('c1'), endpoints('c2', 7001)]);
    h.resources.set(TYPE.cluster, [cluster('c1'), cluster('c2', 3)]);
    h.resources.push({ proxies: ['partial'], types: [TYPE.cluster, TYPE.endpoint] });
    const cdsPush = await s.next();
    assert.deepEqual(names(cdsPush), ['c1', 'c2'], 'CDS responses always hold the full set');
    const edsPush = await s.next();
    assert.equal(edsPush.typeUrl, TYPE.endpoint);
    assert.deepEqual(names(edsPush), ['c2'], 'only the changed ClusterLoadAssignment');
    s.end();
  });

  it('pushes only the types that changed, in make-before-break order, and nothing when versions are unchanged', async () => {
    const { s, cds } = await open('pusher');
    s.send({ typeUrl: TYPE.cluster, versionInfo: cds.versionInfo, responseNonce: cds.nonce });
    s.send({ typeUrl: TYPE.route, resourceNames: ['r1'] });
    await s.next();
    s.send({ typeUrl: TYPE.listener });
    await s.next();
    s.send({ typeUrl: TYPE.endpoint, resourceNames: ['c1'] });
    await s.next();
    const barrier = new Barrier(s, h.server);

    h.resources.push({ proxies: ['pusher'] });
    await barrier.check(); // nothing changed: nothing sent

    const before = h.resources.generated.length;
    h.resources.set(TYPE.endpoint, [endpoints('c1', 7000), endpoints('c2')]);
    h.resources.push({ proxies: ['pusher'], types: [TYPE.endpoint] });
    const eds = await s.next();
    assert.equal(eds.typeUrl, TYPE.endpoint);
    assert.deepEqual(h.resources.generated.slice(before).map((g) => g.typeUrl), [TYPE.endpoint]);
    await barrier.check();

    h.resources.set(TYPE.route, [route('r1', 'x.example'), route('r2')]);
    h.resources.set(TYPE.listener, [listener('l1', 15002), listener('l2', 15006)]);
    h.resources.set(TYPE.cluster, [cluster('c1', 2), cluster('c2')]);
    h.resources.push({ proxies: ['pusher'], types: [TYPE.route, TYPE.listener, TYPE.cluster] });
    const order = [(await s.next()).typeUrl, (await s.next()).typeUrl, (await s.next()).typeUrl];
    assert.deepEqual(order, [TYPE.cluster, TYPE.listener, TYPE.route]);
    await barrier.check();
    s.end();
  });
});
