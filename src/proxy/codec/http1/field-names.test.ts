import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { find, step } from './field-names.ts';

function lookup(line: string): string | undefined {
  let h = 0;
  for (let i = 0; i < line.length; i++) h = step(h, line.charCodeAt(i));
  return find(line, 0, line.length, h);
}

describe('common field names', () => {
  it('finds a known name in any letter case, as the lower-case constant', () => {
    assert.equal(lookup('Content-Length'), 'content-length');
    assert.equal(lookup('HOST'), 'host');
    assert.equal(lookup('x-request-id'), 'x-request-id');
    assert.equal(lookup('X-B3-TraceId'), 'x-b3-traceid');
    assert.equal(lookup('te'), 'te');
  });

  it('finds nothing for other names, prefixes, extensions or near misses', () => {
    for (const name of ['content-lengths', 'content-lengt', 'hos', 'x-custom', 'x_request_id', 'content~length', 'x-b3-traceid2', 'ho^t']) {
      assert.equal(lookup(name), undefined, name);
    }
  });

  it('reads the name in place, inside a longer line', () => {
    const line = 'Accept-Encoding: gzip';
    let h = 0;
    for (let i = 0; i < 15; i++) h = step(h, line.charCodeAt(i));
    assert.equal(find(line, 0, 15, h), 'accept-encoding');
  });
});
