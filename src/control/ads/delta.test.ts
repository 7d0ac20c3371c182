import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TYPE } from '../../xds/type-urls.ts';
import { Barrier, cluster, endpoints, harness, names, node, route } from './fixtures.ts';
import type { Harness } from './fixtures.ts';
import type { Obj } from './testing.ts';

const versions = (res: Obj): Record<string, string> => Object.fromEntries((res.resources ?? []).map((r: Obj) => [r.name, r.version]));
const removed = (res: Obj): string[] => [...(res.removedResources ?? [])].sort();

describe('ADS incremental (delta)', () => {
  let h: Harness;
  before(async () => { h = await harness(); });
  after(async () => { await h.close(); });
  beforeEach(() => {
    h.resources.set(TYPE.cluster, [cluster('c1'), cluster('c2')]);
    h.resources.set(TYPE.endpoint, [endpoints('c1'), endpoints('c2')]);
    h.resources.set(TYPE.route, [route('r1'), route('r2')]);
  });

  it('answers a legacy wildcard CDS subscription with every resource and per-resource versions', async () => {
    const s = h.client.delta();
    s.send({ node: node('d-wild'), typeUrl: TYPE.cluster });
    const res = await s.next();
    assert.equal(res.typeUrl, TYPE.cluster);
    assert.deepEqual(names(res), ['c1', 'c2']);
    assert.equal(res.resources[0].resource['@type'], TYPE.cluster);
    assert.match(res.resources[0].version, /^[0-9a-f]{16}$/);
    assert.ok(res.nonce !== '' && res.systemVersionInfo !== '');
    assert.equal(h.server.status().find((x) => x.proxyId === 'd-wild')?.mode, 'delta');
    s.end();
  });

  it('sends only changed resources, and removed names, on push', async () => {
    const s = h.client.delta();
    s.send({ node: node('d-push'), typeUrl: TYPE.cluster, resourceNamesSubscribe: ['*'] });
    const first = await s.next();
    s.send({ typeUrl: TYPE.cluster, responseNonce: first.nonce });
    await h.observer.waitFor((e) => e.kind === 'ack' && e.proxyId === 'd-push');
    const barrier = new Barrier(s, h.server, true);
    h.resources.push({ proxies: ['d-push'] });
    await barrier.check(); // nothing changed

    h.resources.set(TYPE.cluster, [cluster('c1', 5), cluster('c3')]);
    h.resources.push({ proxies: ['d-push'], types: [TYPE.cluster] });
    const next = await s.next();
    assert.deepEqual(names(next), ['c1', 'c3']);
    assert.notEqual(versions(next).c1, versions(first).c1);
    assert.deepEqual(removed(next), ['c2']);
    await barrier.check();
    s.end();
  });

  it('subscribes and unsubscribes names, reporting names that do not exist as removed', async () => {
    const s = h.client.delta();
    s.send({ node: node('d-sub'), typeUrl: TYPE.endpoint, resourceNamesSubscribe: ['c1', 'ghost'] });
    const first = await s.next();
    assert.deepEqual(names(first), ['c1']);
    assert.deepEqual(removed(first), ['ghost']);

    s.send({ typeUrl: TYPE.endpoint, responseNonce: first.nonce, resourceNamesSubscribe: ['c2'] });
    const second = await s.next();
    assert.deepEqual(names(second), ['c2']);
    assert.deepEqual(removed(second), []);

    const barrier = new Barrier(s, h.server, true);
    s.send({ typeUrl: TYPE.endpoint, responseNonce: second.nonce, resourceNamesUnsubscribe: ['c1'] });
    await barrier.check(); // an unsubscription alone needs no answer
    assert.deepEqual(h.server.status().find((x) => x.proxyId === 'd-sub')?.types[TYPE.endpoint]?.subscribed, ['c2', 'ghost']);

    h.resources.set(TYPE.endpoint, [endpoints('c1', 1), endpoints('c2', 2), endpoints('ghost')]);
    h.resources.push({ proxies: ['d-sub'], types: [TYPE.endpoint] });
    const third = await s.next();
    assert.deepEqual(names(third), ['c2', 'ghost']); // c1 is no longer watched; ghost sprang into existence
    s.end();
  });

  it('resends a resource the client subscribes to again, though the server thinks it holds it', async () => {
    const s = h.client.delta();
    s.send({ node: node('d-forgot'), typeUrl: TYPE.endpoint, resourceNamesSubscribe: ['c1'] });
    const first = await s.next();
    s.send({ typeUrl: TYPE.endpoint, responseNonce: first.nonce, resourceNamesSubscribe: ['c1'] });
    const again = await s.next();
    assert.deepEqual(versions(again), versions(first));
    s.end();
  });

  it('honours a subscription change carried by a stale nonce', async () => {
    const s = h.client.delta();
    s.send({ node: node('d-stale'), typeUrl: TYPE.route, resourceNamesSubscribe: ['r1'] });
    const first = await s.next();
    h.resources.set(TYPE.route, [route('r1', 'new.example'), route('r2')]);
    h.resources.push({ proxies: ['d-stale'], types: [TYPE.route] });
    const second = await s.next();
    s.send({ typeUrl: TYPE.route, responseNonce: first.nonce, resourceNamesSubscribe: ['r2'], errorDetail: { message: 'old' } });
    const third = await s.next();
    assert.deepEqual(names(third), ['r2']);
    const st = h.server.status().find((x) => x.proxyId === 'd-stale')?.types[TYPE.route];
    assert.equal(st?.nack, undefined, 'a NACK with a stale nonce is not recorded');
    assert.notEqual(second.nonce, third.nonce);
    s.end();
  });

  it('records a NACK and does not resend the rejected resources', async () => {
    const s = h.client.delta();
    s.send({ node: node('d-nack'), typeUrl: TYPE.endpoint, resourceNamesSubscribe: ['c1'] });
    const first = await s.next();
    s.send({ typeUrl: TYPE.endpoint, responseNonce: first.nonce, errorDetail: { code: 3, message: 'no' } });
    const nack = await h.observer.waitFor((e) => e.kind === 'nack' && e.proxyId === 'd-nack');
    assert.equal(nack.message, 'no');
    const barrier = new Barrier(s, h.server, true);
    h.resources.push({ proxies: ['d-nack'] });
    await barrier.check();
    s.end();
  });

  it('skips resources the client already holds (initial_resource_versions) and removes those gone', async () => {
    const probe = h.client.delta();
    probe.send({ node: node('d-probe'), typeUrl: TYPE.cluster });
    const all = versions(await probe.next());
    probe.end();

    const s = h.client.delta();
    s.send({
      node: node('d-reconnect'),
      typeUrl: TYPE.cluster,
      resourceNamesSubscribe: ['*'],
      initialResourceVersions: { c1: all.c1, c2: 'outdated', gone: 'v0' },
    });
    const res = await s.next();
    assert.deepEqual(names(res), ['c2']);
    assert.deepEqual(removed(res), ['gone']);
    s.end();
  });

  it('answers the first request for a type even when the client holds everything', async () => {
    const probe = h.client.delta();
    probe.send({ node: node('d-probe2'), typeUrl: TYPE.endpoint, resourceNamesSubscribe: ['c1'] });
    const held = versions(await probe.next());
    probe.end();
    const s = h.client.delta();
    s.send({ node: node('d-uptodate'), typeUrl: TYPE.endpoint, resourceNamesSubscribe: ['c1'], initialResourceVersions: held });
    const res = await s.next();
    assert.deepEqual(names(res), []);
    assert.deepEqual(removed(res), []);
    s.end();
  });

  it('under a wildcard, answers the unsubscription of a name it also covers', async () => {
    const s = h.client.delta();
    s.send({ node: node('d-mixed'), typeUrl: TYPE.cluster, resourceNamesSubscribe: ['*', 'c1', 'extra'] });
    const first = await s.next();
    assert.deepEqual(names(first), ['c1', 'c2']);
    assert.deepEqual(removed(first), ['extra']);
    s.send({ typeUrl: TYPE.cluster, responseNonce: first.nonce, resourceNamesUnsubscribe: ['c1'] });
    const second = await s.next();
    assert.deepEqual(names(second), ['c1']); // still covered by the wildcard: the client keeps it
    s.end();
  });

  it('VHDS: a route configuration name subscribes to all its virtual hosts; pushes carry only the changed one', async () => {
    const vh = (name: string, cluster = 'c1'): Obj => ({ name, domains: [name.slice(name.indexOf('/') + 1)], routes: [{ match: { prefix: '/' }, route: { cluster } }] });
    h.resources.set(TYPE.virtualHost, [vh('15001/a'), vh('15001/b'), vh('9080/c')]);
    const s = h.client.delta();
    s.send({ node: node('d-vhds'), typeUrl: TYPE.virtualHost, resourceNamesSubscribe: ['15001'] });
    const first = await s.next();
    assert.deepEqual(names(first), ['15001/a', '15001/b']);
    assert.deepEqual(removed(first), []); // the collection's own name is not a resource
    s.send({ typeUrl: TYPE.virtualHost, responseNonce: first.nonce });
    await h.observer.waitFor((e) => e.kind === 'ack' && e.proxyId === 'd-vhds');

    h.resources.set(TYPE.virtualHost, [vh('15001/a'), vh('15001/b', 'c2'), vh('15001/new'), vh('9080/c', 'c2')]);
    h.resources.push({ proxies: ['d-vhds'], types: [TYPE.virtualHost] });
    const second = await s.next();
    assert.deepEqual(names(second), ['15001/b', '15001/new']);
    s.send({ typeUrl: TYPE.virtualHost, responseNonce: second.nonce });

    h.resources.set(TYPE.virtualHost, [vh('15001/a'), vh('15001/new')]);
    h.resources.push({ proxies: ['d-vhds'], types: [TYPE.virtualHost] });
    const third = await s.next();
    assert.deepEqual(names(third), []);
    assert.deepEqual(removed(third), ['15001/b']);

    // Unsubscribing the collection and subscribing again resends every member.
    s.send({ typeUrl: TYPE.virtualHost, responseNonce: third.nonce, resourceNamesUnsubscribe: ['15001'] });
    s.send({ typeUrl: TYPE.virtualHost, resourceNamesSubscribe: ['15001'] });
    let again = await s.next();
    if (names(again).length === 0) again = await s.next();
    assert.deepEqual(names(again), ['15001/a', '15001/new']);
    s.end();
  });

  it('streams in step share what they hold; one that changes its subscription diverges correctly', async () => {
    const a = h.client.delta();
    const b = h.client.delta();
    for (const [s, id] of [[a, 'd-step-a'], [b, 'd-step-b']] as const) s.send({ node: node(id), typeUrl: TYPE.endpoint, resourceNamesSubscribe: ['c1', 'c2'] });
    const [fa, fb] = [await a.next(), await b.next()];
    assert.deepEqual(names(fa), ['c1', 'c2']);
    assert.deepEqual(names(fb), ['c1', 'c2']);
    const barrier = new Barrier(b, h.server, true);
    b.send({ typeUrl: TYPE.endpoint, responseNonce: fb.nonce, resourceNamesUnsubscribe: ['c2'] });
    await barrier.check();
    h.resources.set(TYPE.endpoint, [endpoints('c1', 1), endpoints('c2', 2)]);
    h.resources.push({ proxies: ['d-step-a', 'd-step-b'], types: [TYPE.endpoint] });
    assert.deepEqual(names(await a.next()), ['c1', 'c2']);
    assert.deepEqual(names(await b.next()), ['c1']);
    h.resources.set(TYPE.endpoint, [endpoints('c2', 3)]);
    h.resources.push({ proxies: ['d-step-a', 'd-step-b'], types: [TYPE.endpoint] });
    const na = await a.next();
    assert.deepEqual([names(na), removed(na)], [['c2'], ['c1']]);
    const nb = await b.next();
    assert.deepEqual([names(nb), removed(nb)], [[], ['c1']]);
    a.end();
    b.end();
  });

  it('sends a large diff as several responses, each ACKed on its own; a NACK of any part is recorded', async () => {
    const big = (i: number): Obj => ({
      clusterName: `big${i}`,
      endpoints: [{ lbEndpoints: Array.from({ length: 100 }, (_, j) => ({ endpoint: { address: { socketAddress: { address: `10.${i}.${j}.1`, portValue: 8080 } } } })) }],
    });
    const names100 = Array.from({ length: 100 }, (_, i) => `big${i}`);
    h.resources.set(TYPE.endpoint, names100.map((_, i) => big(i)));
    const s = h.client.delta();
    s.send({ node: node('d-chunks'), typeUrl: TYPE.endpoint, resourceNamesSubscribe: names100 });
    const parts: Obj[] = [];
    let received = 0;
    while (received < 100) {
      const res = await s.next();
      parts.push(res);
      received += res.resources.length;
    }
    assert.ok(parts.length >= 2, `${parts.length} responses`);
    assert.equal(new Set(parts.map((p) => p.nonce)).size, parts.length, 'each part has its own nonce');
    assert.deepEqual(parts.flatMap((p) => names(p)).sort(), [...names100].sort());
    s.send({ typeUrl: TYPE.endpoint, responseNonce: parts[0]!.nonce, errorDetail: { code: 3, message: 'bad part' } });
    await h.observer.waitFor((e) => e.kind === 'nack' && e.proxyId === 'd-chunks');
    assert.equal(h.server.status().find((x) => x.proxyId === 'd-chunks')?.types[TYPE.endpoint]?.nack?.message, 'bad part');
    s.end();
  });
});
