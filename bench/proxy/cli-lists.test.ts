import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envList, nodeArgList } from './cli-lists.ts';

describe('proxy tools: list options', () => {
  it('reads K=V lists, values with = kept whole, and names an entry without a name', () => {
    assert.deepEqual(envList('A=1,,B=x=y,C='), { A: '1', B: 'x=y', C: '' });
    assert.deepEqual(envList(''), {});
    assert.throws(() => envList('A=1,JUNK'), /--env: "JUNK" is not NAME=VALUE/);
    assert.throws(() => envList('=v', '--variant env'), /--variant env: "=v" is not NAME=VALUE/);
  });

  it('splits node flags on spaces', () => {
    assert.deepEqual(nodeArgList(' --a  --b=1 '), ['--a', '--b=1']);
    assert.deepEqual(nodeArgList(''), []);
  });
});
