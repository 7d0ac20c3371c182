import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { counts, fakeHosts, seededEnv } from '../testing.ts';
import { EdfScheduler, WeightedCycle } from './edf.ts';
import { buildRoundRobin } from './round-robin.ts';

describe('ROUND_ROBIN', () => {
  it('gives every host exactly its weight in any window of one cycle (Σw picks), wherever it starts', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 50 }),
      (weights, seed, offset) => {
        const hosts = fakeHosts(weights.length, (i) => ({ weight: weights[i]! }));
        const chooser = buildRoundRobin(hosts.map((h) => ({ host: h, weight: h.weight })), seededEnv(seed));
        for (let i = 0; i < offset; i++) chooser.pick(0, 0);
        const total = weights.reduce((a, b) => a + b, 0);
        const seen = counts(Array.from({ length: total }, () => chooser.pick(0, 0)));
        hosts.forEach((h) => assert.equal(seen.get(h) ?? 0, h.weight, `weights ${weights}`));
      },
    ), { numRuns: 300 });
  });

  it('rotates through equally weighted hosts', () => {
    const hosts = fakeHosts(4);
    const chooser = buildRoundRobin(hosts.map((h) => ({ host: h, weight: 1 })), seededEnv(7));
    const first = chooser.pick(0, 0)!;
    const start = hosts.indexOf(first);
    for (let i = 1; i < 12; i++) assert.equal(chooser.pick(0, 0), hosts[(start + i) % 4]);
  });

  it('interleaves by earliest deadline (weights 3 and 1: the light host lands once per cycle, at its deadline)', () => {
    const cycle = new WeightedCycle([{ item: 'a', weight: 3 }, { item: 'b', weight: 1 }]);
    // Deadlines a: 1/3, 2/3, 1; b: 1 (ties go to the first entry).
    assert.deepEqual(Array.from({ length: 8 }, () => cycle.next()), ['a', 'a', 'a', 'b', 'a', 'a', 'a', 'b']);
    assert.equal(cycle.cycleLength, 4);
  });

  it('returns nothing without hosts', () => {
    assert.equal(buildRoundRobin([], seededEnv(1)).pick(0, 0), undefined);
    assert.equal(new WeightedCycle<string>([]).next(), undefined);
  });
});

describe('EdfScheduler', () => {
  it('picks in proportion to floating-point weights and drops entries whose weight falls to 0', () => {
    const edf = new EdfScheduler<{ name: string; w: number }>();
    const a = { name: 'a', w: 0.5 };
    const b = { name: 'b', w: 1.5 };
    edf.add(a.w, a);
    edf.add(b.w, b);
    const picks = counts(Array.from({ length: 400 }, () => edf.pickAndAdd((e) => e.w)!.name));
    assert.equal(picks.get('a'), 100);
    assert.equal(picks.get('b'), 300);
    b.w = 0;
    edf.pickAndAdd((e) => e.w);
    for (let i = 0; i < 5; i++) assert.equal(edf.pickAndAdd((e) => e.w)?.name, 'a');
  });
});
