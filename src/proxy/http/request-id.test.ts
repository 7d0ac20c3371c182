import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomUuid } from './request-id.ts';

describe('randomUuid', () => {
  it('makes RFC 9562 version 4 UUIDs, all different, across refills of the random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = randomUuid();
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 1000);
  });

  it('uses every hex digit in the random positions', () => {
    const digits = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of randomUuid().replaceAll('-', '')) digits.add(c);
    assert.equal(digits.size, 16);
  });
});
