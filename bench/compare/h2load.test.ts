/** h2load's summary is read right, failures and non-2xx included, and output without one is an error. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseH2load } from './h2load.ts';

const sample = (ok: number, failed: number, errored: number, fiveXX: number) => `finished in 1.02s, 10652.00 req/s, 10.68MB/s
requests: 10652 total, 10656 started, 10652 done, ${ok} succeeded, ${failed} failed, ${errored} errored, 0 timeout
status codes: ${ok} 2xx, 0 3xx, 0 4xx, ${fiveXX} 5xx
traffic: 10.68MB (11195408) total, 93.73KB (95976) headers (space savings 89.14%), 10.40MB (10907648) data`;

it('reads rate, successes and every kind of failure from h2load output', () => {
  assert.deepEqual(parseH2load(sample(10652, 0, 0, 0)), { rps: 10652, succeeded: 10652, failed: 0 });
  assert.deepEqual(parseH2load(sample(10000, 2, 3, 7)), { rps: 10652, succeeded: 10000, failed: 12 });
  assert.throws(() => parseH2load('connect: Connection refused'), /no summary/);
});
