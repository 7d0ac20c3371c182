import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleCollector } from './idle-gc.ts';

function harness(oldBytes: { value: number }) {
  const runs: number[] = [];
  const idle = new IdleCollector({
    idleMs: 20,
    growth: 1.5,
    minGrowthBytes: 100,
    oldBytes: () => oldBytes.value,
    gc: async () => {
      runs.push(oldBytes.value);
      oldBytes.value = 1000; // what the collection left
    },
  });
  return { idle, runs };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

test('collects once quiet and grown, not while active or when the heap did not grow enough', async () => {
  const old = { value: 1000 };
  const { idle, runs } = harness(old);
  idle.touch();
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(runs, [], 'no growth, no collection');

  old.value = 1400; // grown, but less than 1.5×
  idle.touch();
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(runs, []);

  old.value = 5000;
  // Activity every 5 ms keeps it from running…
  const busy = setInterval(() => idle.touch(), 5);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(runs, [], 'never while active');
  clearInterval(busy);
  // …and once quiet, it runs, once.
  await until(() => runs.length > 0);
  assert.deepEqual(runs, [5000]);
  assert.equal(idle.collections, 1);
  idle.touch();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(idle.collections, 1, 'the baseline is what the collection left');
  idle.close();
});

test('without gc it stays off', () => {
  const idle = new IdleCollector({ gc: undefined });
  idle.touch();
  assert.equal(idle.enabled, typeof (globalThis as { gc?: unknown }).gc === 'function');
  idle.close();
});
