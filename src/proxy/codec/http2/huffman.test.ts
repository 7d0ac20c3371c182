import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HuffmanError, huffmanDecode, huffmanEncode, huffmanLength } from './huffman.ts';

const encode = (s: string): string => {
  const out = Buffer.alloc(huffmanLength(s) + 8);
  const end = huffmanEncode(s, out, 0);
  assert.equal(end, huffmanLength(s), `length of ${JSON.stringify(s)}`);
  return out.subarray(0, end).toString('hex');
};
const decode = (hex: string): string => huffmanDecode(Buffer.from(hex, 'hex'), 0, hex.length / 2);

/** The Huffman-coded strings of RFC 7541 Appendix C.4 and C.6. */
const RFC_STRINGS: readonly [string, string][] = [
  ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
  ['no-cache', 'a8eb10649cbf'],
  ['custom-key', '25a849e95ba97d7f'],
  ['custom-value', '25a849e95bb8e8b4bf'],
  ['302', '6402'],
  ['307', '640eff'],
  ['private', 'aec3771a4b'],
  ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07abe941054d444a8200595040b8166e082a62d1bff'],
  ['https://www.example.com', '9d29ad171863c78f0b97c8e9ae82ae43d3'],
  ['foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1', '94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007'],
];

describe('HPACK Huffman code', () => {
  it('encodes and decodes the strings of RFC 7541 Appendix C', () => {
    for (const [s, hex] of RFC_STRINGS) {
      assert.equal(encode(s), hex, s);
      assert.equal(decode(hex), s, hex);
    }
  });

  it('round-trips every byte value, the longest codes (28 and 30 bits) included', () => {
    let all = '';
    for (let c = 255; c >= 0; c--) all += String.fromCharCode(c);
    assert.equal(decode(encode(all)), all);
    assert.equal(decode(encode('\x0a\x0d\x16\xff\xfe')), '\x0a\x0d\x16\xff\xfe');
  });

  it('round-trips any latin1 string, read from inside a larger buffer', () => {
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 200 }), (s) => {
      const out = Buffer.alloc(huffmanLength(s) + 10, 0xaa);
      const end = huffmanEncode(s, out, 5);
      assert.equal(end - 5, huffmanLength(s));
      assert.equal(huffmanDecode(out, 5, end), s);
    }));
  });

  it('decodes the empty string', () => {
    assert.equal(decode(''), '');
    assert.equal(encode(''), '');
  });

  it('rejects padding longer than 7 bits, padding that is not all ones, and EOS', () => {
    // 'a' is 00011 (5 bits): padded with 3 ones is 0x1f.
    assert.equal(decode('1f'), 'a');
    assert.throws(() => decode('1fff'), HuffmanError, 'a full byte of padding');
    assert.throws(() => decode('1e'), HuffmanError, 'padding with a zero');
    assert.throws(() => decode('ff'), HuffmanError, '8 bits of padding alone');
    assert.throws(() => decode('fffffffc'), HuffmanError, 'EOS (30 ones)');
    assert.throws(() => decode('fffffffd'), HuffmanError, 'EOS followed by more bits');
  });
});
