import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { partitionPoint } from './sorted.ts';

test('partitionPoint finds where a value goes, before or after its equals', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 20 })), fc.integer({ min: -1, max: 21 }), (xs, v) => {
    const sorted = [...xs].sort((a, b) => a - b);
    assert.equal(partitionPoint(sorted, (x) => x < v), sorted.filter((x) => x < v).length);
    assert.equal(partitionPoint(sorted, (x) => x <= v), sorted.filter((x) => x <= v).length);
  }));
});
