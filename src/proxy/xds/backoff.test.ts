import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('grows by the multiplier up to the cap, and starts over after a reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.2, random: () => 0.5 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.next()), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(b.attempts, 6);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 100);
  });

  it('spreads each delay by ±jitter', () => {
    const low = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
    assert.equal(low.next(), 800);
    assert.equal(high.next(), 1200);
    const real = new Backoff({ initialMs: 1000, maxMs: 1000 });
    for (let i = 0; i < 200; i++) {
      const d = real.next();
      assert.ok(d >= 800 && d <= 1200, `delay ${d} out of range`);
    }
  });

  it('uses Envoy-like defaults: 500 ms, doubling, capped at 30 s', () => {
    const b = new Backoff({ jitter: 0 });
    const delays = Array.from({ length: 10 }, () => b.next());
    assert.equal(delays[0], 500);
    assert.equal(delays[1], 1000);
    assert.equal(Math.max(...delays), 30_000);
  });
});
