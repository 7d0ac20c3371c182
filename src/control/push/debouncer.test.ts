import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer, type MergedChange } from './debouncer.ts';

const EDS = 'eds';
const RDS = 'rds';

function next(d: { resolve?: (b: MergedChange) => void }): Promise<MergedChange> {
  return new Promise((resolve) => { d.resolve = resolve; });
}

describe('Debouncer', () => {
  it('merges changes made together into one push: earliest change, union of types and hosts', async () => {
    const sink: { resolve?: (b: MergedChange) => void } = {};
    const d = new Debouncer(20, (b) => sink.resolve?.(b));
    const flushed = next(sink);
    d.add({ types: new Set([EDS]), hosts: new Set(['a']), routeHosts: new Set(), reason: 'proxy-added', at: 5 });
    d.add({ types: new Set([EDS]), hosts: new Set(['b']), routeHosts: new Set(['r']), reason: 'proxy-removed', at: 3 });
    const b = await flushed;
    assert.equal(b.count, 2);
    assert.equal(b.at, 3);
    assert.deepEqual([...(b.types as Set<string>)], [EDS]);
    assert.deepEqual([...(b.hosts as Set<string>)].sort(), ['a', 'b']);
    assert.deepEqual([...(b.routeHosts as Set<string>)], ['r']);
    assert.deepEqual([...b.reasons].sort(), ['proxy-added', 'proxy-removed']);
    d.close();
  });

  it('pushes a change after a quiet time at once, without waiting for the quiet period', { timeout: 5000 }, async () => {
    const sink: { resolve?: (b: MergedChange) => void } = {};
    const d = new Debouncer(60_000, (b) => sink.resolve?.(b));
    const flushed = next(sink);
    d.add({ types: 'all', hosts: 'all', routeHosts: 'all', reason: 'config', at: 1 });
    const b = await flushed; // a trailing-only debounce would make this test time out
    assert.equal(b.count, 1);
    d.close();
  });

  it('merges the changes that follow a push and pushes them once they stop', async () => {
    const got: MergedChange[] = [];
    let pushed: (() => void) | undefined;
    const d = new Debouncer(40, (b) => { got.push(b); pushed?.(); });
    const push = () => new Promise<void>((resolve) => { pushed = resolve; });
    let p = push();
    d.add({ types: new Set([EDS]), hosts: new Set(['a']), routeHosts: new Set(), reason: 'proxy-added', at: 1 });
    await p;
    p = push();
    const t0 = performance.now();
    d.add({ types: new Set([EDS]), hosts: new Set(['b']), routeHosts: new Set(), reason: 'proxy-added', at: 2 });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(got.length, 1, 'a change right after a push waits for the quiet period');
    d.add({ types: new Set([RDS]), hosts: new Set(['c']), routeHosts: new Set(), reason: 'config', at: 3 });
    await p;
    assert.ok(performance.now() - t0 >= 40, 'pushed after the quiet period');
    assert.equal(got.length, 2);
    assert.equal(got[1]!.count, 2);
    assert.deepEqual([...(got[1]!.hosts as Set<string>)].sort(), ['b', 'c']);
    d.close();
  });

  it('a change to everything dominates the merge', () => {
    const got: MergedChange[] = [];
    const d = new Debouncer(1000, (b) => got.push(b));
    d.flushNow(); // nothing pending: no push
    assert.equal(got.length, 0);
    d.add({ types: new Set([EDS]), hosts: new Set(['a']), routeHosts: new Set(), reason: 'proxy-added', at: 1 });
    d.add({ types: new Set([RDS]), hosts: 'all', routeHosts: 'all', reason: 'config', at: 2 });
    assert.equal(got.length, 0, 'nothing within the turn that made the changes');
    d.flushNow();
    assert.equal(got.length, 1);
    assert.deepEqual([...(got[0]!.types as Set<string>)].sort(), [EDS, RDS]);
    assert.equal(got[0]!.hosts, 'all');
    assert.equal(got[0]!.routeHosts, 'all');
    d.add({ types: 'all', hosts: 'all', routeHosts: 'all', reason: 'config', at: 3 });
    d.flushNow();
    assert.equal(got[1]!.types, 'all');
    d.close();
  });

  it('pushes a burst after maxDelay even while changes keep coming', async () => {
    const got: MergedChange[] = [];
    let second: (() => void) | undefined;
    const d = new Debouncer(50, (b) => { got.push(b); if (got.length === 2) second?.(); }, 120);
    const flushed = new Promise<void>((resolve) => { second = resolve; });
    const t0 = performance.now();
    const timer = setInterval(() => d.add({ types: 'all', hosts: 'all', routeHosts: 'all', reason: 'config', at: performance.now() }), 10);
    await flushed;
    clearInterval(timer);
    assert.equal(got[0]!.count, 1, 'the first change, after a quiet time, went out at once');
    assert.ok(got[1]!.count > 3, 'the burst that followed was merged');
    assert.ok(performance.now() - t0 < 1000);
    d.close();
  });
});
