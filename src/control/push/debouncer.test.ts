import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer, type MergedChange } from './debouncer.ts';

function next(d: { resolve?: (b: MergedChange) => void }): Promise<MergedChange> {
  return new Promise((resolve) => { d.resolve = resolve; });
}

describe('Debouncer', () => {
  it('merges a burst into one push that remembers the earliest change and the fast path', async () => {
    const sink: { resolve?: (b: MergedChange) => void } = {};
    const d = new Debouncer(20, (b) => sink.resolve?.(b));
    const flushed = next(sink);
    d.add({ endpointsOnly: true, reason: 'proxy-added', at: 5 });
    d.add({ endpointsOnly: true, reason: 'proxy-removed', at: 3 });
    const b = await flushed;
    assert.equal(b.count, 2);
    assert.equal(b.at, 3);
    assert.equal(b.endpointsOnly, true);
    assert.deepEqual([...b.reasons].sort(), ['proxy-added', 'proxy-removed']);
    d.close();
  });

  it('a config change in the batch turns off the endpoint fast path', () => {
    const got: MergedChange[] = [];
    const d = new Debouncer(1000, (b) => got.push(b));
    d.add({ endpointsOnly: true, reason: 'proxy-added', at: 1 });
    d.add({ endpointsOnly: false, reason: 'config', at: 2 });
    assert.equal(got.length, 0, 'nothing before the quiet period');
    d.flushNow();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.endpointsOnly, false);
    d.close();
  });

  it('pushes after maxDelay even while changes keep coming', async () => {
    const sink: { resolve?: (b: MergedChange) => void } = {};
    const d = new Debouncer(50, (b) => sink.resolve?.(b), 120);
    const flushed = next(sink);
    const t0 = performance.now();
    const timer = setInterval(() => d.add({ endpointsOnly: false, reason: 'config', at: performance.now() }), 10);
    const b = await flushed;
    clearInterval(timer);
    assert.ok(b.count > 3);
    assert.ok(performance.now() - t0 < 1000);
    d.close();
  });
});
