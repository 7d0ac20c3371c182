import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Problems } from '../proto-read.ts';
import { counts, fakeHosts, seededEnv } from '../testing.ts';
import { buildLeastRequest, DEFAULT_LEAST_REQUEST, leastRequest } from './least-request.ts';

describe('LEAST_REQUEST', () => {
  it('power of two choices: the busiest host wins only when both samples are it (≈1/n²), the idlest most often', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 3, maxLength: 8 }),
      fc.integer({ min: 1, max: 0xffffffff }),
      (loads, seed) => {
        const hosts = fakeHosts(loads.length);
        hosts.forEach((h, i) => (h.activeRequests = loads[i]!));
        const chooser = buildLeastRequest(hosts.map((h) => ({ host: h, weight: 1 })), DEFAULT_LEAST_REQUEST, seededEnv(seed));
        const n = hosts.length;
        const picks = 20_000;
        const seen = counts(Array.from({ length: picks }, () => chooser.pick(0, 0)!));
        const byLoad = [...hosts].sort((a, b) => a.activeRequests - b.activeRequests);
        // P(rank r wins) = (2(n−r)−1)/n²: strictly decreasing with load.
        byLoad.forEach((h, r) => {
          const expected = (2 * (n - r) - 1) / (n * n);
          const got = (seen.get(h) ?? 0) / picks;
          assert.ok(Math.abs(got - expected) < 0.02, `rank ${r} of ${n}: ${got} vs ${expected}`);
        });
        assert.ok((seen.get(byLoad[0]!) ?? 0) > (seen.get(byLoad[n - 1]!) ?? 0));
      },
    ), { numRuns: 40 });
  });

  it('reads load at pick time: a host that gets busy loses its share at once', () => {
    const hosts = fakeHosts(2);
    const chooser = buildLeastRequest(hosts.map((h) => ({ host: h, weight: 1 })), DEFAULT_LEAST_REQUEST, seededEnv(3));
    hosts[0]!.activeRequests = 10;
    const seen = counts(Array.from({ length: 4000 }, () => chooser.pick(0, 0)!));
    // Host 0 wins only when both samples are host 0: about a quarter of the time.
    assert.ok(Math.abs((seen.get(hosts[0]!) ?? 0) / 4000 - 0.25) < 0.03);
    hosts[0]!.activeRequests = 0;
    hosts[1]!.activeRequests = 10;
    const after = counts(Array.from({ length: 4000 }, () => chooser.pick(0, 0)!));
    assert.ok((after.get(hosts[0]!) ?? 0) > 2800);
  });

  it('weighted: EDF over weight/(active+1)^bias — idle hosts follow their weights, load shifts picks away', () => {
    const hosts = fakeHosts(2, (i) => ({ weight: i === 0 ? 3 : 1 }));
    const entries = hosts.map((h) => ({ host: h, weight: h.weight }));
    const idle = counts(Array.from({ length: 400 }, (() => { const c = buildLeastRequest(entries, DEFAULT_LEAST_REQUEST, seededEnv(1)); return () => c.pick(0, 0)!; })()));
    assert.equal(idle.get(hosts[0]!), 300);
    hosts[0]!.activeRequests = 5; // effective weight 3/6 = 0.5 < 1
    const busy = counts(Array.from({ length: 300 }, (() => { const c = buildLeastRequest(entries, DEFAULT_LEAST_REQUEST, seededEnv(1)); return () => c.pick(0, 0)!; })()));
    assert.ok((busy.get(hosts[1]!) ?? 0) > (busy.get(hosts[0]!) ?? 0));
    // Bias 0 ignores load: back to the plain weights.
    const unbiased = buildLeastRequest(entries, { ...DEFAULT_LEAST_REQUEST, activeRequestBias: 0 }, seededEnv(1));
    const plain = counts(Array.from({ length: 400 }, () => unbiased.pick(0, 0)!));
    assert.equal(plain.get(hosts[0]!), 300);
  });

  it('full scan picks the least loaded host every time', () => {
    const hosts = fakeHosts(5);
    hosts.forEach((h, i) => (h.activeRequests = [4, 2, 9, 1, 3][i]!));
    const chooser = buildLeastRequest(hosts.map((h) => ({ host: h, weight: 1 })), { ...DEFAULT_LEAST_REQUEST, fullScan: true }, seededEnv(5));
    for (let i = 0; i < 20; i++) assert.equal(chooser.pick(0, 0), hosts[3]);
  });

  it('validates its config (choice_count ≥ 2, non-negative bias)', () => {
    const problems = new Problems();
    const config = leastRequest.fromCluster({ leastRequestLbConfig: { choiceCount: { value: 1 }, activeRequestBias: { defaultValue: -1, runtimeKey: 'x' } } }, problems);
    assert.deepEqual(problems.list, [
      'leastRequestLbConfig.choiceCount: must be at least 2 (got 1)',
      'leastRequestLbConfig.activeRequestBias.defaultValue: must be a non-negative number (got -1)',
    ]);
    assert.deepEqual(config, DEFAULT_LEAST_REQUEST);
    const typed = leastRequest.fromTyped({ choiceCount: { value: 3 }, selectionMethod: 'FULL_SCAN' }, 'p', new Problems());
    assert.deepEqual(typed, { choiceCount: 3, activeRequestBias: 1, fullScan: true });
  });
});
