import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { until } from './fixtures.ts';
import { WriteBudget } from './write-budget.ts';
import type { BudgetHolder } from './write-budget.ts';

/** A holder that records its resumptions and, when resumed, writes `bytes` if admitted. */
function holder(name: string, log: string[], budget: () => WriteBudget, bytes = 10): BudgetHolder {
  const h: BudgetHolder = {
    resume() {
      log.push(name);
      if (budget().admit(h)) budget().take(h, bytes);
    },
  };
  return h;
}

describe('WriteBudget', () => {
  it('resumes waiting holders first come, first served, only while there is room', async () => {
    const log: string[] = [];
    const budget = new WriteBudget({ limitBytes: 10, stallMs: Infinity, sliceMs: 5 });
    const [a, b, c] = ['a', 'b', 'c'].map((n) => holder(n, log, () => budget));
    assert.equal(budget.admit(a!), true);
    budget.take(a!, 10);
    assert.equal(budget.admit(b!), false);
    assert.equal(budget.admit(c!), false);
    assert.equal(budget.waiting, 2);
    budget.give(a!, 10);
    await until(() => log.length === 1);
    assert.deepEqual(log, ['b'], 'b took the room; c waits');
    assert.equal(budget.inflight, 10);
    budget.release(b!);
    await until(() => log.length === 2);
    assert.deepEqual(log, ['b', 'c']);
    budget.close();
  });

  it('stops counting a holder that made no progress for stallMs, and counts it again once it does', async () => {
    const log: string[] = [];
    const budget = new WriteBudget({ limitBytes: 10, stallMs: 20, sliceMs: 5 });
    const stuck = holder('stuck', log, () => budget);
    const next = holder('next', log, () => budget, 1);
    budget.take(stuck, 30);
    assert.equal(budget.admit(next), false);
    await until(() => log.includes('next'));
    assert.equal(budget.inflight, 1, 'only the resumed holder counts');
    budget.give(stuck, 10);
    assert.equal(budget.inflight, 21, 'progress: the 20 bytes it still holds count again');
    budget.release(stuck);
    assert.equal(budget.inflight, 1);
    budget.close();
  });
});
