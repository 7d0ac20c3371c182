import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Problems } from '../proto-read.ts';
import { counts, fakeHosts, FakeHost, seededEnv } from '../testing.ts';
import { top32, xxHash64, murmurHash2 } from './hash.ts';
import { DEFAULT_MAX_RING_SIZE, Ring, ringHash } from './ring-hash.ts';
import type { RingHashConfig } from './ring-hash.ts';

const CONFIG: RingHashConfig = { minRingSize: 1024, maxRingSize: DEFAULT_MAX_RING_SIZE, hashFunction: 'XX_HASH', useHostnameForHashing: false };

function normalized(hosts: readonly FakeHost[]): { host: FakeHost; weight: number }[] {
  const sum = hosts.reduce((s, h) => s + h.weight, 0);
  return hosts.map((h) => ({ host: h, weight: h.weight / sum }));
}

function lowerBound(points: Uint32Array, k: number): number {
  const i = points.findIndex((p) => p >= k);
  return i < 0 ? 0 : i;
}

function keys(n: number, seed: number): number[] {
  const env = seededEnv(seed);
  return Array.from({ length: n }, () => env.random());
}

describe('RING_HASH', () => {
  it('places ceil(min_ring_size / n) points per equal host, hashed as Envoy does ("ip:port_i", xxHash64)', () => {
    const hosts = fakeHosts(3);
    const ring = new Ring(normalized(hosts), CONFIG);
    assert.equal(ring.size, 342 * 3);
    const points = new Set(ring.points);
    for (const i of [0, 1, 341]) assert.ok(points.has(top32(xxHash64(`10.0.0.1:8080_${i}`))));
    assert.ok(!points.has(top32(xxHash64('10.0.0.1:8080_342'))));
    const murmur = new Ring(normalized(hosts), { ...CONFIG, hashFunction: 'MURMUR_HASH_2' });
    assert.ok(new Set(murmur.points).has(top32(murmurHash2('10.0.0.2:8080_0'))));
  });

  it('is consistent: removing one of N hosts moves only its keys and those its survivors\' new points capture (≈1/N each)', () => {
    fc.assert(fc.property(fc.integer({ min: 4, max: 24 }), fc.nat(), fc.integer({ min: 1, max: 1000 }), (n, victimSeed, seed) => {
      const hosts = fakeHosts(n);
      const victim = hosts[victimSeed % n]!;
      const before = new Ring(normalized(hosts), CONFIG);
      const after = new Ring(normalized(hosts.filter((h) => h !== victim)), CONFIG);
      // Envoy keeps the ring at ~min_ring_size, so survivors get more points ("ip:port_i" for larger i);
      // every point they had before is still there.
      const afterPoints = new Set(after.points);
      const oldPoints = new Set(before.points);
      before.points.forEach((p) => { if (before.pick(p, 0) !== victim) assert.ok(afterPoints.has(p)); });
      const ks = keys(4000, seed);
      let moved = 0;
      for (const k of ks) {
        const a = before.pick(k, 0)!;
        assert.equal(before.pick(k, 0), a);
        const b = after.pick(k, 0)!;
        assert.notEqual(b, victim);
        if (a === b) continue;
        moved++;
        // A surviving host's key moves only to a point the new ring added.
        if (a !== victim) assert.ok(!oldPoints.has(after.points[lowerBound(after.points, k)]!), 'moved between survivors onto an old point');
      }
      assert.ok(moved / ks.length < 2 / n + 0.06, `${moved / ks.length} moved for N=${n}`);
    }), { numRuns: 25 });
  });

  it('spreads keys by weight', () => {
    const hosts = fakeHosts(3, (i) => ({ weight: i === 0 ? 2 : 1 }));
    const ring = new Ring(normalized(hosts), CONFIG);
    const seen = counts(keys(20_000, 9).map((k) => ring.pick(k, 0)!));
    const share = (seen.get(hosts[0]!) ?? 0) / 20_000;
    assert.ok(Math.abs(share - 0.5) < 0.08, `heavy host share ${share}`);
  });

  it('retries move to the next point; use_hostname_for_hashing hashes the hostname', () => {
    const hosts = fakeHosts(5);
    const ring = new Ring(normalized(hosts), CONFIG);
    const k = 123456789;
    const alternatives = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((a) => ring.pick(k, a)));
    assert.ok(alternatives.size > 1);
    const named = fakeHosts(2, (i) => ({ hostname: `pod-${i}.svc` }));
    const byName = new Ring(normalized(named), { ...CONFIG, useHostnameForHashing: true });
    assert.ok(new Set(byName.points).has(top32(xxHash64('pod-0.svc_0'))));
  });

  it('validates sizes and refuses bounded load', () => {
    const problems = new Problems();
    ringHash.fromCluster({
      ringHashLbConfig: { minimumRingSize: { value: 4096 }, maximumRingSize: { value: 1024 } },
      commonLbConfig: { consistentHashingLbConfig: { hashBalanceFactor: { value: 150 } } },
    }, problems);
    assert.deepEqual(problems.list, [
      'ringHashLbConfig.minimumRingSize: is larger than maximum_ring_size (4096 > 1024)',
      'commonLbConfig.consistentHashingLbConfig.hashBalanceFactor: bounded-load consistent hashing is not supported',
    ]);
    const typed = ringHash.fromTyped({ minimumRingSize: { value: 64 }, hashFunction: 'MURMUR_HASH_2' }, 'p', new Problems());
    assert.deepEqual(typed, { minRingSize: 64, maxRingSize: DEFAULT_MAX_RING_SIZE, hashFunction: 'MURMUR_HASH_2', useHostnameForHashing: false });
  });
});
