import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memoized } from './memo.ts';

describe('memoized', () => {
  it('makes a value once per object and hands it back after', () => {
    const cache = new WeakMap<object, { n: number }>();
    let made = 0;
    const make = (k: { id: number }) => ({ n: k.id * 10 + ++made });
    const a = { id: 1 }, b = { id: 2 };
    const first = memoized(cache, a, make);
    assert.equal(memoized(cache, a, make), first, 'same object: the stored value');
    assert.deepEqual(memoized(cache, b, make), { n: 22 }, 'another object: made for it');
    assert.equal(made, 2);
  });
});
