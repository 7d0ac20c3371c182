import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TYPE } from '../../xds/type-urls.ts';
import { PendingTypes } from './protocol.ts';

const drain = (p: PendingTypes) => {
  const out: [string, boolean, number][] = [];
  for (let o = p.take(); o !== undefined; o = p.take()) out.push([o.typeUrl, o.force, o.changedAt]);
  return out;
};

describe('PendingTypes', () => {
  it('hands owed responses out in push order, known types first, others in arrival order', () => {
    const p = new PendingTypes();
    p.add('type.example/Other', false, 1);
    p.add(TYPE.route, false, 2);
    p.add('type.example/Another', true, 3);
    p.add(TYPE.cluster, false, 4);
    p.add(TYPE.listener, false, 5);
    assert.equal(p.size, 5);
    assert.deepEqual(drain(p).map(([t]) => t), [TYPE.cluster, TYPE.listener, TYPE.route, 'type.example/Other', 'type.example/Another']);
    assert.equal(p.size, 0);
    assert.equal(p.take(), undefined);
  });

  it('merges a type owed twice: forced if either was, with the earlier change', () => {
    const p = new PendingTypes();
    p.add(TYPE.endpoint, true, 20);
    p.add(TYPE.endpoint, false, 10);
    p.add('type.example/Other', false, 7);
    p.add('type.example/Other', true, 9);
    assert.equal(p.size, 2);
    assert.deepEqual(drain(p), [[TYPE.endpoint, true, 10], ['type.example/Other', true, 7]]);
    p.add(TYPE.endpoint, false, 30);
    assert.deepEqual(drain(p), [[TYPE.endpoint, false, 30]], 'a type taken is owed afresh');
  });
});
