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
