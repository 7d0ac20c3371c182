import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmurHash2, ringPosition, top32, xxHash64 } from './hash.ts';

describe('hash functions', () => {
  it('xxHash64 matches the reference vectors (Envoy HashUtil::xxHash64)', () => {
    const vectors: [string, bigint, bigint][] = [
      ['', 0n, 0xef46db3751d8e999n],
      ['', 1n, 0xd5afba1336a3be4bn],
      ['a', 0n, 0xd24ec4f1a98c6e5bn],
      ['as', 0n, 0x1c330fb2d66be179n],
      ['asd', 0n, 0x631c37ce72a97393n],
      ['asdf', 0n, 0x415872f599cea71en],
      ['abc', 0n, 0x44bc2cf5ad770999n],
      ['Call me Ishmael.', 0n, 0x6d04390fc9d61a90n],
      ['Nobody inspects the spammish repetition', 0n, 0xfbcea83c8a378bf1n],
    ];
    for (const [input, seed, want] of vectors) assert.equal(xxHash64(input, seed), want, JSON.stringify(input));
  });

  it('murmurHash2 matches libstdc++ std::hash<std::string> (Envoy MurmurHash::murmurHash2)', () => {
    // Values printed by g++ 12 (x86-64): std::hash<std::string>{}(s).
    const vectors: [string, bigint][] = [
      ['', 6142509188972423790n],
      ['a', 4993892634952068459n],
      ['hello', 2762169579135187400n],
      ['10.0.0.1:80_0', 13659246566588789388n],
      ['abcdefghijklmnopq', 16399385603263873375n],
    ];
    for (const [input, want] of vectors) assert.equal(murmurHash2(input), want, JSON.stringify(input));
  });

  it('maps request hashes to 32-bit ring positions', () => {
    assert.equal(top32(0xfedcba9876543210n), 0xfedcba98);
    assert.equal(ringPosition(12345), 12345);
    assert.equal(ringPosition(0xffffffff), 0xffffffff);
    // A 64-bit hash passed as a (lossy) Number keeps its top 32 bits.
    assert.equal(ringPosition(Number(0xfedcba9876543210n)), 0xfedcba98);
    assert.equal(ringPosition(-1), 0);
    assert.equal(ringPosition(Number.NaN), 0);
  });
});
