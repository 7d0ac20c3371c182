import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closest } from './suggest.ts';

describe('closest', () => {
  const known = ['host', 'subset', 'port', 'weight', 'exportTo', 'destination'];
  it('suggests typos, swaps, case and snake_case slips', () => {
    assert.equal(closest('weigth', known), 'weight');
    assert.equal(closest('hots', known), 'host');
    assert.equal(closest('export_to', known), 'exportTo');
    assert.equal(closest('Subset', known), 'subset');
    assert.equal(closest('destinaton', known), 'destination');
  });
  it('stays silent when nothing is close', () => {
    assert.equal(closest('timeout', known), undefined);
    assert.equal(closest('x', known), undefined);
  });
});
