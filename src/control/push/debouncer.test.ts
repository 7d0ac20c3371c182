import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer, type MergedChange } from './debouncer.ts';

const EDS = 'eds';
const RDS = 'rds';

function next(d: { resolve?: (b: MergedChange) => void }): Promise<MergedChange> {
  return new Promise((resolve) => { d.resolve = resolve; });
}

describe('Debouncer', () => {
  it('merges a burst into one push: earliest change, union of types and hosts', async () => {
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

  it('a change to everything dominates the merge', () => {
    const got: MergedChange[] = [];
    const d = new Debouncer(1000, (b) => got.push(b));
    d.add({ types: new Set([EDS]), hosts: new Set(['a']), routeHosts: new Set(), reason: 'proxy-added', at: 1 });
    d.add({ types: new Set([RDS]), hosts: 'all', routeHosts: 'all', reason: 'config', at: 2 });
    assert.equal(got.length, 0, 'nothing before the quiet period');
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

  it('pushes after maxDelay even while changes keep coming', async () => {
    const sink: { resolve?: (b: MergedChange) => void } = {};
    const d = new Debouncer(50, (b) => sink.resolve?.(b), 120);
    const flushed = next(sink);
    const t0 = performance.now();
    const timer = setInterval(() => d.add({ types: 'all', hosts: 'all', routeHosts: 'all', reason: 'config', at: performance.now() }), 10);
    const b = await flushed;
    clearInterval(timer);
    assert.ok(b.count > 3);
    assert.ok(performance.now() - t0 < 1000);
    d.close();
  });
});
