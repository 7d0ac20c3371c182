import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinLbRegistry } from './lb/index.ts';
import type { LbSpec } from './lb/types.ts';
import type { LocalityInput, PickerInput } from './picker.ts';
import { Picker } from './picker.ts';
import { Problems } from './proto-read.ts';
import { counts, fakeHosts, FakeHost, seededEnv } from './testing.ts';

const registry = builtinLbRegistry();

function spec(name: string, cluster: Record<string, unknown> = {}): LbSpec {
  const policy = registry.byName(name)!;
  return { policy, config: policy.fromCluster(cluster, new Problems()) };
}

function picker(levels: PickerInput<FakeHost>['levels'], overrides: Partial<PickerInput<FakeHost>> = {}): Picker<FakeHost> {
  return new Picker<FakeHost>({
    levels,
    overprovisioningFactor: 140,
    weightedPriorityHealth: false,
    panicThreshold: 50,
    lb: spec('ROUND_ROBIN'),
    env: seededEnv(11),
    ...overrides,
  });
}

function locality(key: string, hosts: FakeHost[], weight?: number): LocalityInput<FakeHost> {
  return { key, weight, hosts };
}

function sample(p: Picker<FakeHost>, n: number): Map<FakeHost | undefined, number> {
  return counts(Array.from({ length: n }, () => p.pick()));
}

describe('picker', () => {
  it('uses only the highest priority while it is healthy enough', () => {
    const p0 = fakeHosts(3);
    const p1 = fakeHosts(2).map((_, i) => new FakeHost(100 + i));
    const seen = sample(picker([[locality('', p0)], [locality('', p1)]]), 300);
    for (const h of p1) assert.equal(seen.get(h), undefined);
    for (const h of p0) assert.equal(seen.get(h), 100);
  });

  it('spills over to the next priority as health drops (overprovisioning 1.4)', () => {
    const p0 = fakeHosts(4, (i) => ({ availability: i < 2 ? 'healthy' : 'unhealthy' }));
    const p1 = [new FakeHost(100), new FakeHost(101)];
    const p = picker([[locality('', p0)], [locality('', p1)]]);
    assert.deepEqual(p.loads.healthy, [70, 30]);
    const seen = sample(p, 10_000);
    const toP1 = p1.reduce((s, h) => s + (seen.get(h) ?? 0), 0) / 10_000;
    assert.ok(Math.abs(toP1 - 0.3) < 0.02, `${toP1}`);
    assert.equal(seen.get(p0[2]!), undefined);
    assert.equal(seen.get(p0[3]!), undefined);
  });

  it('panics below the healthy panic threshold: every host, unhealthy ones too, except draining ones', () => {
    const hosts = fakeHosts(5, (i) => ({ availability: i === 0 ? 'healthy' : i === 4 ? 'excluded' : 'unhealthy' }));
    const panicCounter = { value: 0 };
    const seen = sample(picker([[locality('', hosts)]], { panicCounter }), 400);
    for (const h of hosts.slice(0, 4)) assert.equal(seen.get(h), 100);
    assert.equal(seen.get(hosts[4]!), undefined);
    assert.equal(panicCounter.value, 400);
    // With the threshold at 0 there is no panic: only the healthy host.
    const strict = sample(picker([[locality('', hosts)]], { panicThreshold: 0 }), 50);
    assert.equal(strict.get(hosts[0]!), 50);
  });

  it('returns nothing when no host is usable', () => {
    assert.equal(picker([]).pick(), undefined);
    assert.equal(picker([[locality('', fakeHosts(2, () => ({ availability: 'unhealthy' })))]], { panicThreshold: 0 }).pick(), undefined);
    assert.equal(picker([[locality('', fakeHosts(2, () => ({ availability: 'excluded' })))]]).pick(), undefined);
  });

  it('picks a locality by weight, then a host in it', () => {
    const a = fakeHosts(2, () => ({ locality: 'r/a/' }));
    const b = [new FakeHost(50, { locality: 'r/b/' }), new FakeHost(51, { locality: 'r/b/' }), new FakeHost(52, { locality: 'r/b/' })];
    const seen = sample(picker([[locality('r/a/', a, 3), locality('r/b/', b, 1)]]), 800);
    assert.equal(a.reduce((s, h) => s + (seen.get(h) ?? 0), 0), 600);
    assert.equal(b.reduce((s, h) => s + (seen.get(h) ?? 0), 0), 200);
  });

  it('lowers a locality\'s effective weight with its health (weight × min(1, 1.4 × healthy share))', () => {
    const a = fakeHosts(4, (i) => ({ locality: 'a', availability: i === 0 ? 'healthy' : 'unhealthy' }));
    const b = [new FakeHost(50, { locality: 'b' }), new FakeHost(51, { locality: 'b' })];
    // a: 1 × min(1, 1.4 × 1/4) = 0.35; b: 1. Overall health (2 of 6) stays above panic.
    const p = picker([[locality('a', a, 1), locality('b', b, 1)]], { panicThreshold: 30 });
    const seen = sample(p, 13_500);
    assert.equal(seen.get(a[0]!), 3_500);
    assert.equal((seen.get(b[0]!) ?? 0) + (seen.get(b[1]!) ?? 0), 10_000);
  });

  it('retries avoid excluded hosts when others exist (up to 6 selections, as Istio configures Envoy)', () => {
    const hosts = fakeHosts(3);
    const exclude = new Set([hosts[0]!, hosts[1]!]);
    const rr = picker([[locality('', hosts)]]);
    for (let i = 0; i < 50; i++) assert.equal(rr.pick({ exclude }), hosts[2]);
    // RANDOM redraws: all 6 draws land on excluded hosts with probability (2/3)^6 ≈ 9%.
    const p = picker([[locality('', hosts)]], { lb: spec('RANDOM') });
    const avoided = Array.from({ length: 2000 }, () => p.pick({ exclude })).filter((h) => h === hosts[2]).length / 2000;
    assert.ok(Math.abs(avoided - (1 - (2 / 3) ** 6)) < 0.03, `${avoided}`);
    // All excluded: the last pick is returned rather than nothing.
    assert.ok(rr.pick({ exclude: new Set(hosts) }) !== undefined);
  });

  it('hash-based policies: the same hash, the same host; locality weights fold into host weights', () => {
    const a = fakeHosts(2, () => ({ locality: 'a' }));
    const b = [new FakeHost(50, { locality: 'b' }), new FakeHost(51, { locality: 'b' })];
    for (const name of ['RING_HASH', 'MAGLEV']) {
      const p = picker([[locality('a', a, 3), locality('b', b, 1)]], { lb: spec(name) });
      const env = seededEnv(5);
      let toA = 0;
      for (let i = 0; i < 4000; i++) {
        const hash = env.random();
        const h = p.pick({ hash })!;
        assert.equal(p.pick({ hash }), h);
        if (a.includes(h)) toA++;
      }
      assert.ok(Math.abs(toA / 4000 - 0.75) < 0.06, `${name}: ${toA / 4000}`);
      const first = p.pick({ hash: 77 })!;
      assert.notEqual(p.pick({ hash: 77, exclude: new Set([first]) }), first);
    }
  });
});
