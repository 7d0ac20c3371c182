import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRetryPolicy, parseRetryOn, retryPolicy } from './retry.ts';

test('retryOn: numbers Go knows as statuses become retriable codes, others stay conditions', () => {
  assert.deepEqual(parseRetryOn('5xx, 503 ,504,,connect-failure'), { retryOn: '5xx,connect-failure,retriable-status-codes', codes: [503, 504] });
  assert.deepEqual(parseRetryOn('503,retriable-status-codes'), { retryOn: 'retriable-status-codes', codes: [503] });
  assert.deepEqual(parseRetryOn('599'), { retryOn: '599', codes: [] });
});

test('consistent hashing keeps retries on the same host', () => {
  assert.equal(defaultRetryPolicy(true)['retryHostPredicate'], undefined);
  assert.ok(Array.isArray(defaultRetryPolicy(false)['retryHostPredicate']));
});

test('retryIgnorePreviousHosts false removes the previous-hosts predicate', () => {
  assert.equal(retryPolicy({ attempts: 1, retryIgnorePreviousHosts: false })!['retryHostPredicate'], undefined);
  assert.equal(retryPolicy({ attempts: -1 }), undefined);
});
