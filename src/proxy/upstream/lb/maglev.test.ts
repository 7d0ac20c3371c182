import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Problems } from '../proto-read.ts';
import { counts, fakeHosts, FakeHost } from '../testing.ts';
import { xxHash64 } from './hash.ts';
import { DEFAULT_TABLE_SIZE, isPrime, maglev, MaglevTable } from './maglev.ts';

function normalized(hosts: readonly FakeHost[]): { host: FakeHost; weight: number }[] {
  const sum = hosts.reduce((s, h) => s + h.weight, 0);
  return hosts.map((h) => ({ host: h, weight: h.weight / sum }));
}

const CONFIG = { tableSize: DEFAULT_TABLE_SIZE, useHostnameForHashing: false };

function slotCounts(t: MaglevTable<FakeHost>): Map<FakeHost, number> {
  return counts(Array.from(t.slots, (i) => t.hosts[i]!));
}

describe('MAGLEV', () => {
  it('balances: equally weighted hosts own table slots within one of each other', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), (n) => {
      const table = new MaglevTable(normalized(fakeHosts(n)), CONFIG);
      assert.ok(table.slots.every((s) => s >= 0));
      const c = [...slotCounts(table).values()];
      assert.equal(c.length, n);
      assert.ok(Math.max(...c) - Math.min(...c) <= 1, `slot counts ${Math.min(...c)}..${Math.max(...c)}`);
    }), { numRuns: 15 });
  });

  it('follows weights, and is built in sorted key order whatever order hosts arrive in', () => {
    const hosts = fakeHosts(3, (i) => ({ weight: i === 0 ? 3 : 1 }));
    const table = new MaglevTable(normalized(hosts), CONFIG);
    const c = slotCounts(table);
    assert.ok(Math.abs((c.get(hosts[0]!) ?? 0) / DEFAULT_TABLE_SIZE - 0.6) < 0.01);
    const shuffled = new MaglevTable(normalized([hosts[2]!, hosts[0]!, hosts[1]!]), CONFIG);
    assert.deepEqual(Array.from(shuffled.slots, (i) => shuffled.hosts[i]), Array.from(table.slots, (i) => table.hosts[i]));
  });

  it('starts each host at its Envoy permutation (offset = xxHash64(key, 0) mod M)', () => {
    const [h] = fakeHosts(1);
    const table = new MaglevTable(normalized([h!]), { tableSize: 7, useHostnameForHashing: false });
    assert.equal(table.slots.length, 7);
    const offset = Number(xxHash64(h!.addressString, 0n) % 7n);
    assert.equal(table.hosts[table.slots[offset]!], h);
  });

  it('is consistent: removing one of N hosts reassigns few slots besides its own', () => {
    fc.assert(fc.property(fc.integer({ min: 5, max: 30 }), fc.nat(), (n, v) => {
      const hosts = fakeHosts(n);
      const victim = hosts[v % n]!;
      const before = new MaglevTable(normalized(hosts), CONFIG);
      const after = new MaglevTable(normalized(hosts.filter((h) => h !== victim)), CONFIG);
      let moved = 0;
      for (let s = 0; s < DEFAULT_TABLE_SIZE; s++) {
        const a = before.hosts[before.slots[s]!];
        const b = after.hosts[after.slots[s]!];
        if (a !== victim && a !== b) moved++;
      }
      assert.ok(moved / DEFAULT_TABLE_SIZE < 1 / n, `${moved} slots of surviving hosts moved for N=${n}`);
    }), { numRuns: 10 });
  });

  it('uses hash mod M, and changes the hash on retries', () => {
    const hosts = fakeHosts(8);
    const table = new MaglevTable(normalized(hosts), CONFIG);
    assert.equal(table.pick(5, 0), table.hosts[table.slots[5]!]);
    assert.equal(table.pick(5 + DEFAULT_TABLE_SIZE, 0), table.pick(5, 0));
    assert.ok(new Set([1, 2, 3, 4, 5].map((a) => table.pick(5, a))).size > 1);
  });

  it('wants a prime table size', () => {
    assert.ok(isPrime(65537) && isPrime(5000011) && !isPrime(65536) && !isPrime(1));
    const problems = new Problems();
    assert.deepEqual(maglev.fromCluster({ maglevLbConfig: { tableSize: { value: 1000 } } }, problems), CONFIG);
    assert.deepEqual(problems.list, ['maglevLbConfig.tableSize: must be a prime number (got 1000)']);
  });
});
