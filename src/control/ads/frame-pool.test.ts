import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramePool, SLAB_BYTES } from './frame-pool.ts';

/** Takes `n` nearly full responses: each on a slab of its own. */
function fill(pool: FramePool, n: number) {
  return Array.from({ length: n }, () => pool.take(SLAB_BYTES - 10));
}

describe('FramePool decay', () => {
  it('frees idle slabs no push took for a whole decay period, and hands their memory back at once', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const pool = new FramePool(64, 1000);
    const taken = fill(pool, 4);
    for (const r of taken) pool.give(r.slab!);
    assert.equal(pool.idle, 3, 'the last one stays current');
    t.mock.timers.tick(999);
    assert.equal(pool.idle, 3, 'not before the period is over');
    t.mock.timers.tick(1);
    assert.equal(pool.idle, 0, 'none was taken in the period: all freed');
    t.mock.timers.tick(10_000); // nothing left to decay: no timer fires on an empty pool
    for (const r of taken.slice(0, 3)) assert.equal(r.slab!.bytes.length, 0, 'detached: the memory is freed without a collection');
    assert.equal(taken[3]!.slab!.bytes.length, SLAB_BYTES, 'the current slab is kept');
  });

  it('frees each slab once it sat idle for the decay period, and keeps the ones a push used since', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const pool = new FramePool(64, 1000);
    const first = fill(pool, 3); // s1, s2, s3 (current)
    pool.give(first[0]!.slab!);
    t.mock.timers.tick(400);
    pool.give(first[1]!.slab!);
    assert.equal(pool.idle, 2);
    t.mock.timers.tick(600);
    assert.equal(pool.idle, 1, 'the slab idle for 1000 ms is freed; the one idle for 600 ms stays');
    assert.equal(first[0]!.slab!.bytes.length, 0);
    t.mock.timers.tick(200);
    const again = fill(pool, 2); // s3 is full: s2 comes back into use, then a new slab
    assert.equal(pool.idle, 0);
    for (const r of again) pool.give(r.slab!);
    t.mock.timers.tick(999);
    assert.equal(first[1]!.slab!.bytes.length, SLAB_BYTES, 'a slab used again starts its idle time over');
    t.mock.timers.tick(1);
    assert.equal(pool.idle, 0);
    assert.equal(first[1]!.slab!.bytes.length, 0);
  });

  it('clear() frees every idle slab now; Infinity never decays', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const keep = new FramePool(64, Infinity);
    for (const r of fill(keep, 3)) keep.give(r.slab!);
    t.mock.timers.tick(60_000);
    assert.equal(keep.idle, 2);
    keep.clear();
    assert.equal(keep.idle, 0);
  });
});
