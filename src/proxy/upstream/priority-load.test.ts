import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PriorityCounts } from './priority-load.ts';
import { choosePriority, priorityLoads } from './priority-load.ts';

/** A priority with `healthy` of `total` hosts healthy (and `degraded` degraded). */
function level(healthy: number, total: number, degraded = 0): PriorityCounts {
  return { total, healthy, degraded, hostCount: total, healthyCount: healthy, degradedCount: degraded };
}

describe('priority loads (Envoy load_balancer_impl.cc)', () => {
  // The table of https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/priority
  const table: [number, number, number, number][] = [
    [100, 100, 100, 0],
    [72, 100, 100, 0],
    [71, 100, 99, 1],
    [50, 100, 70, 30],
    [25, 100, 35, 65],
    [0, 100, 0, 100],
  ];
  for (const [p0, p1, l0, l1] of table) {
    it(`P0 ${p0}% healthy, P1 ${p1}% → ${l0}/${l1}`, () => {
      const loads = priorityLoads([level(p0, 100), level(p1, 100)], 140, 50);
      assert.deepEqual(loads.healthy, [l0, l1]);
      assert.deepEqual(loads.panic, [false, false]);
    });
  }

  it('scales loads up when total health is under 100, and panics priorities under the threshold', () => {
    const loads = priorityLoads([level(20, 100), level(20, 100)], 140, 50);
    // Health 28 + 28 = 56 → each gets 28·100/56 = 50.
    assert.deepEqual(loads.healthy, [50, 50]);
    // Total panic: load follows host counts.
    assert.deepEqual(loads.panic, [true, true]);
    const uneven = priorityLoads([level(10, 100), level(40, 100)], 140, 30);
    assert.deepEqual(uneven.healthy, [20, 80]);
    assert.deepEqual(uneven.panic, [true, false]);
  });

  it('with every priority in panic, splits load by host count; with panic off and nothing healthy, sends all to P0', () => {
    const panic = priorityLoads([level(0, 3), level(0, 1)], 140, 50);
    assert.deepEqual(panic.healthy, [75, 25]);
    assert.deepEqual(panic.panic, [true, true]);
    const off = priorityLoads([level(0, 3), level(0, 1)], 140, 0);
    assert.deepEqual(off.healthy, [100, 0]);
    assert.deepEqual(off.panic, [false, false]);
  });

  it('sends what healthy hosts cannot take to degraded ones', () => {
    const loads = priorityLoads([level(0, 10, 10)], 140, 50);
    assert.deepEqual(loads.healthy, [0]);
    assert.deepEqual(loads.degraded, [100]);
    assert.equal(choosePriority(loads, 42), 1, 'priority 0, degraded hosts');
  });

  it('always distributes exactly 100 percent', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ total: fc.integer({ min: 0, max: 20 }), h: fc.nat(), d: fc.nat() }), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 100, max: 300 }),
      fc.integer({ min: 0, max: 100 }),
      (raw, factor, threshold) => {
        const levels = raw.map(({ total, h, d }) => {
          const healthy = total === 0 ? 0 : h % (total + 1);
          const degraded = total === 0 ? 0 : d % (total - healthy + 1);
          return level(healthy, total, degraded);
        });
        const loads = priorityLoads(levels, factor, threshold);
        const sum = [...loads.healthy, ...loads.degraded].reduce((a, b) => a + b, 0);
        assert.equal(sum, 100);
        for (let h = 0; h < 100; h++) assert.ok(choosePriority(loads, h) >> 1 < levels.length);
      },
    ), { numRuns: 500 });
  });
});
