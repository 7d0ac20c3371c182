import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { detectCodec } from './codec-detect.ts';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

describe('codec detection', () => {
  it('HTTP/2 exactly with the whole preface, HTTP/1 at the first difference', () => {
    assert.equal(detectCodec(Buffer.from(PREFACE)), 'h2');
    assert.equal(detectCodec(Buffer.from(`${PREFACE}\0\0\0\x04`)), 'h2');
    assert.equal(detectCodec(Buffer.from('GET / HTTP/1.1\r\n')), 'h1');
    assert.equal(detectCodec(Buffer.from('POST')), 'h1');
    assert.equal(detectCodec(Buffer.from('PRI * HTTP/1.1')), 'h1');
    assert.equal(detectCodec(Buffer.from('PRI')), undefined);
  });

  it('every proper prefix of the preface is undecided; anything diverging is HTTP/1', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: PREFACE.length - 1 }), (n) => detectCodec(Buffer.from(PREFACE.slice(0, n))) === undefined));
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes) => {
      const b = Buffer.from(bytes);
      const diverges = [...b.subarray(0, PREFACE.length)].some((x, i) => x !== PREFACE.charCodeAt(i));
      const got = detectCodec(b);
      return diverges ? got === 'h1' : got !== 'h1';
    }));
  });
});
