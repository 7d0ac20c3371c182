import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Subscriptions } from '../core/contracts.ts';
import { builtinFilters } from './index.ts';
import { RouteConfigStore, wantRoutes } from './rds.ts';

const rc = (cluster: string) => ({ name: 'r', virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] });

class Recorder implements Subscriptions {
  calls: string[][] = [];
  want(_typeUrl: string, names: ReadonlySet<string>): void {
    this.calls.push([...names]);
  }
}

const tick = () => new Promise<void>((r) => queueMicrotask(r));

describe('RDS route store', () => {
  it('validates, applies, replaces and removes route configurations, telling listeners', () => {
    const store = new RouteConfigStore(builtinFilters());
    const changed: string[] = [];
    store.onChange((n) => changed.push(n));
    assert.deepEqual(store.validate('r', rc('a')), []);
    store.apply(new Map([['r', rc('a')]]), []);
    assert.equal(store.get('r')?.virtualHosts.length, 1);
    store.apply(new Map([['r', rc('b')]]), []);
    store.apply(new Map(), ['r']);
    assert.equal(store.get('r'), undefined);
    assert.deepEqual(changed, ['r', 'r', 'r']);
  });

  it('NACKs a configuration with problems, naming them all', () => {
    const store = new RouteConfigStore(builtinFilters());
    const bad = { name: 'other', virtualHosts: [{ name: 'vh', domains: ['*'], routes: [{ match: {}, route: { cluster: 'a' }, typedPerFilterConfig: { 'envoy.filters.http.x': { '@type': 'type.googleapis.com/unknown.Filter' } } }] }] };
    const problems = store.validate('r', bad);
    assert.ok(problems.some((p) => p.includes('no HTTP filter accepts per-route config of type type.googleapis.com/unknown.Filter')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('name: "other" differs')));
  });

  it('compiles a resource once for validate and apply', () => {
    const store = new RouteConfigStore(builtinFilters());
    const proto = rc('a');
    store.validate('r', proto);
    store.apply(new Map([['r', proto]]), []);
    const first = store.get('r');
    store.apply(new Map([['r', proto]]), []);
    assert.equal(store.get('r'), first);
  });

  it('subscribes to the union of wanted names, in one call per change, without flapping', async () => {
    const subs = new Recorder();
    const a = wantRoutes(subs, '80');
    const b = wantRoutes(subs, '9080');
    await tick();
    assert.deepEqual(subs.calls, [['80', '9080']]);
    // A listener replaced: the new filter wants 80 before the old one lets go of it.
    const a2 = wantRoutes(subs, '80');
    a();
    a();
    await tick();
    assert.deepEqual(subs.calls, [['80', '9080']]);
    b();
    a2();
    await tick();
    assert.deepEqual(subs.calls, [['80', '9080'], []]);
  });
});

describe('RDS route store with VHDS', () => {
  const VHDS = { configSource: { ads: {}, resourceApiVersion: 'V3' } };
  const base = { name: '15001', vhds: VHDS, virtualHosts: [{ name: 'allow_any', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }] }] };
  const vh = (host: string, cluster: string) => ({ name: `15001/${host}`, domains: [host], routes: [{ match: { prefix: '/' }, route: { cluster } }] });

  it('subscribes to the configuration\'s virtual hosts and routes by them, after the inline catch-all', () => {
    const subs = new Recorder();
    const store = new RouteConfigStore(builtinFilters(), subs);
    assert.deepEqual(store.validate('15001', base), []);
    store.apply(new Map([['15001', base]]), []);
    assert.deepEqual(subs.calls, [['15001']]);
    assert.deepEqual(store.get('15001')?.virtualHosts.map((v) => v.name), ['allow_any']);
    const hosts = store.virtualHosts;
    assert.deepEqual(hosts.validate('15001/reviews:9080', vh('reviews:9080', 'a')), []);
    hosts.apply(new Map([['15001/reviews:9080', vh('reviews:9080', 'a')]]), []);
    assert.deepEqual(store.get('15001')?.virtualHosts.map((v) => v.name), ['allow_any', '15001/reviews:9080']);
    hosts.apply(new Map(), ['15001/reviews:9080']);
    assert.deepEqual(store.get('15001')?.virtualHosts.map((v) => v.name), ['allow_any']);
  });

  it('refuses a virtual host without a configuration in its name, one claiming a served domain, and vhds from a non-ADS source', () => {
    const store = new RouteConfigStore(builtinFilters(), new Recorder());
    store.apply(new Map([['15001', base]]), []);
    store.virtualHosts.apply(new Map([['15001/a', vh('a', 'x')]]), []);
    assert.match(store.virtualHosts.validate('lonely', vh('lonely', 'x')).join(), /name: must be <route configuration>\/<host> \(got "lonely"\)/);
    assert.match(store.virtualHosts.validate('15001/b', { ...vh('b', 'x'), domains: ['A'] }).join(), /domains\[0\]: "A" is already served by virtual host "15001\/a"/);
    assert.match(store.validate('15001', { ...base, vhds: { configSource: { path: '/tmp/x' } } }).join(), /vhds.configSource: only ads is supported/);
    assert.match(new RouteConfigStore(builtinFilters()).validate('15001', base).join(), /vhds: virtual host discovery needs an xDS subscription/);
  });
});
