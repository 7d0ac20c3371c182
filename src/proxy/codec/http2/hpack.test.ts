import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ByteWriter } from './byte-writer.ts';
import { HpackDecoder, HpackEncodeError, HpackEncoder, HpackError, writeInt } from './hpack.ts';
import type { DynamicTable } from './hpack-table.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const pairs = (flat: readonly string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};
/** Dynamic table entries, newest first, with their sizes. */
const entries = (t: DynamicTable): [string, string, number][] =>
  Array.from({ length: t.length }, (_, i) => [t.name(i), t.value(i), t.name(i).length + t.value(i).length + 32]);

interface Example { readonly block: string; readonly fields: [string, string][]; readonly table: [string, string, number][] }

const REQUEST_FIELDS: [string, string][][] = [
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
  [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
];
const REQUEST_TABLES: [string, string, number][][] = [
  [[':authority', 'www.example.com', 57]],
  [['cache-control', 'no-cache', 53], [':authority', 'www.example.com', 57]],
  [['custom-key', 'custom-value', 54], ['cache-control', 'no-cache', 53], [':authority', 'www.example.com', 57]],
];
const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSE_FIELDS: [string, string][][] = [
  [[':status', '302'], ['cache-control', 'private'], ['date', DATE1], ['location', 'https://www.example.com']],
  [[':status', '307'], ['cache-control', 'private'], ['date', DATE1], ['location', 'https://www.example.com']],
  [[':status', '200'], ['cache-control', 'private'], ['date', DATE2], ['location', 'https://www.example.com'], ['content-encoding', 'gzip'], ['set-cookie', COOKIE]],
];
const RESPONSE_TABLES: [string, string, number][][] = [
  [['location', 'https://www.example.com', 63], ['date', DATE1, 65], ['cache-control', 'private', 52], [':status', '302', 42]],
  [[':status', '307', 42], ['location', 'https://www.example.com', 63], ['date', DATE1, 65], ['cache-control', 'private', 52]],
  [['set-cookie', COOKIE, 98], ['content-encoding', 'gzip', 52], ['date', DATE2, 65]],
];

/** RFC 7541 Appendix C.3–C.6: three requests (table 4096), three responses (table 256, with evictions). */
const SEQUENCES: Record<string, { readonly tableSize: number; readonly examples: readonly Example[] }> = {
  'C.3 requests without Huffman': {
    tableSize: 4096,
    examples: [
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ].map((block, i) => ({ block, fields: REQUEST_FIELDS[i]!, table: REQUEST_TABLES[i]! })),
  },
  'C.4 requests with Huffman': {
    tableSize: 4096,
    examples: [
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '8286 84be 5886 a8eb 1064 9cbf',
      '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    ].map((block, i) => ({ block, fields: REQUEST_FIELDS[i]!, table: REQUEST_TABLES[i]! })),
  },
  'C.5 responses without Huffman': {
    tableSize: 256,
    examples: [
      '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '4803 3330 37c1 c0bf',
      '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
    ].map((block, i) => ({ block, fields: RESPONSE_FIELDS[i]!, table: RESPONSE_TABLES[i]! })),
  },
  'C.6 responses with Huffman': {
    tableSize: 256,
    examples: [
      '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
      '4883 640e ffc1 c0bf',
      '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    ].map((block, i) => ({ block, fields: RESPONSE_FIELDS[i]!, table: RESPONSE_TABLES[i]! })),
  },
};

describe('HPACK decoder', () => {
  for (const [title, { tableSize, examples }] of Object.entries(SEQUENCES)) {
    it(`decodes RFC 7541 ${title}, with the dynamic table after each block`, () => {
      const decoder = new HpackDecoder(4096);
      decoder.table.resize(tableSize);
      for (const [i, example] of examples.entries()) {
        const out: string[] = [];
        const size = decoder.decode(hex(example.block), out);
        assert.deepEqual(pairs(out), example.fields, `block ${i + 1}`);
        assert.equal(size, example.fields.reduce((n, [k, v]) => n + k.length + v.length + 32, 0));
        assert.deepEqual(entries(decoder.table), example.table, `table after block ${i + 1}`);
      }
    });
  }

  it('decodes the literal forms of RFC 7541 C.2: without indexing and never indexed leave the table alone', () => {
    const decoder = new HpackDecoder();
    const out: string[] = [];
    decoder.decode(hex('040c 2f73 616d 706c 652f 7061 7468'), out); // :path /sample/path, without indexing
    decoder.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'), out); // password: secret, never indexed
    assert.deepEqual(pairs(out), [[':path', '/sample/path'], ['password', 'secret']]);
    assert.equal(decoder.table.length, 0);
    decoder.decode(hex('82'), out);
    assert.deepEqual(out.slice(-2), [':method', 'GET']);
  });

  it('applies a table size update at the start of a block, and evicts to fit', () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'), []);
    assert.equal(decoder.table.length, 1);
    decoder.decode(hex('20 82'), []); // size 0: the table empties
    assert.equal(decoder.table.length, 0);
    assert.equal(decoder.table.max, 0);
    decoder.decode(hex('3fe1 1f'), []); // back to 4096 (31 + 4065)
    assert.equal(decoder.table.max, 4096);
  });

  it('keeps decoding past the list limit (the table stays in step) without growing the list', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const big = 'v'.repeat(900);
    const first = new ByteWriter();
    encoder.field('x-big', big, first);
    decoder.decode(first.take(), []);
    // 2000 one-byte references to the 900-byte entry: 1.9 MB of header list from a 2 KB block.
    const bomb = Buffer.alloc(2000, 0xbe);
    const out: string[] = [];
    const size = decoder.decode(Buffer.concat([bomb, hex('4003 782d 6101 31')]), out, 60 * 1024);
    assert.equal(size, 2000 * (5 + 900 + 32) + (3 + 1 + 32));
    assert.equal(out.length / 2, Math.floor(60 * 1024 / (5 + 900 + 32)));
    assert.equal(decoder.table.name(0), 'x-a', 'the literal after the limit still entered the table');
  });

  it('names what is wrong in a block it cannot decode', () => {
    const bad: [string, RegExp][] = [
      ['80', /index 0/],
      ['be', /index 62 is beyond the table \(61 static \+ 0 dynamic/],
      ['82 20', /size update after the first header field/],
      ['3fe2 1f', /size update to 4097 octets, above the 4096 allowed/],
      ['ff ff ff ff ff 0f', /integer .* too large/],
      ['ff 80', /ends inside an integer/],
      ['40', /ends before a string literal/],
      ['0a 05 6162', /string literal of 5 octets runs past the end/],
      ['41 81 ff', /padding/],
      ['41 84 ffff ffff', /EOS/],
    ];
    for (const [block, message] of bad) {
      assert.throws(() => new HpackDecoder().decode(hex(block), []), (err: Error) => err instanceof HpackError && message.test(err.message), block);
    }
  });
});

describe('HPACK integers', () => {
  it('encodes the examples of RFC 7541 C.1', () => {
    const w = new ByteWriter(4);
    writeInt(w, 0, 5, 10);
    writeInt(w, 0, 5, 1337);
    writeInt(w, 0, 8, 42);
    assert.equal(w.take().toString('hex'), '0a1f9a0a2a');
  });
});

describe('HPACK encoder', () => {
  const encode = (encoder: HpackEncoder, fields: readonly [string, string][]): Buffer => {
    const w = new ByteWriter(16);
    encoder.begin(w);
    for (const [name, value] of fields) encoder.field(name, value, w);
    return w.take();
  };

  it('writes the RFC 7541 C.4 requests exactly: indexed, name-indexed with Huffman, then from the dynamic table', () => {
    const encoder = new HpackEncoder();
    const blocks = REQUEST_FIELDS.map((fields) => encode(encoder, fields).toString('hex'));
    assert.deepEqual(blocks, SEQUENCES['C.4 requests with Huffman']!.examples.map((e) => e.block.replace(/\s+/g, '')));
  });

  it('sends a field already in a table as one index', () => {
    const encoder = new HpackEncoder();
    encode(encoder, [['x-custom', 'one']]);
    assert.equal(encode(encoder, [['x-custom', 'one']]).toString('hex'), 'be');
    assert.equal(encode(encoder, [[':status', '200'], ['accept-charset', '']]).toString('hex'), '888f');
  });

  it('keeps credentials and per-request values out of the table, credentials never indexed', () => {
    const encoder = new HpackEncoder();
    const block = encode(encoder, [['authorization', 'Bearer abc'], ['cookie', 'a=1'], ['x-request-id', 'f0e1'], ['cookie', 'a'.repeat(30)]]);
    assert.equal(block[0]! & 0xf0, 0x10, 'authorization: never indexed');
    assert.equal(encoder.table.length, 1, 'only the long cookie is indexed');
    assert.equal(encoder.table.name(0), 'cookie');
    const out: string[] = [];
    new HpackDecoder().decode(block, out);
    assert.deepEqual(pairs(out), [['authorization', 'Bearer abc'], ['cookie', 'a=1'], ['x-request-id', 'f0e1'], ['cookie', 'a'.repeat(30)]]);
  });

  it('follows the peer table size: the smallest then the new size at the start of the next block', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const roundTrip = (fields: [string, string][]): void => {
      const out: string[] = [];
      decoder.decode(encode(encoder, fields), out);
      assert.deepEqual(pairs(out), fields);
    };
    roundTrip([['x-a', '1'], ['x-b', '2']]);
    encoder.setPeerTableSize(0);
    encoder.setPeerTableSize(100);
    const block = encode(encoder, []);
    assert.equal(block.toString('hex'), '203f45', 'size 0, then 100');
    decoder.decode(block, []);
    assert.equal(decoder.table.max, 100);
    assert.equal(decoder.table.length, 0);
    roundTrip([['x-a', '1'], ['x-c', '3']]);
    encoder.setPeerTableSize(1 << 20); // capped at the encoder's own 4096
    assert.equal(encoder.table.max, 4096);
  });

  it('rejects names and values HTTP/2 cannot carry, before writing anything of the field', () => {
    const encoder = new HpackEncoder();
    for (const [name, value, message] of [
      ['X-Upper', 'v', /not a lowercase token/],
      ['bad name', 'v', /not a lowercase token/],
      ['', 'v', /empty header name/],
      ['x-v', 'a\r\nb', /CR in the value of header "x-v"/],
      ['x-v', 'a\0', /NUL/],
      ['x-v', 'snow\u2603', /U\+2603/],
    ] as const) {
      const w = new ByteWriter();
      assert.throws(() => encoder.field(name, value, w), (err: Error) => err instanceof HpackEncodeError && message.test(err.message), `${name}: ${value}`);
      assert.equal(w.pos, 0);
    }
    assert.equal(encoder.table.length, 0);
  });

  it('stays in step with a decoder over any sequence of blocks and table sizes', () => {
    const name = fc.oneof(fc.constantFrom(':path', ':status', 'content-type', 'x-request-id', 'cookie', 'authorization', 'x-a', 'x-b'), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/));
    const value = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 60 });
    const step = fc.record({ resize: fc.option(fc.integer({ min: 0, max: 5000 }), { freq: 4 }), fields: fc.array(fc.tuple(name, value), { maxLength: 12 }) });
    fc.assert(fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
      const encoder = new HpackEncoder();
      const decoder = new HpackDecoder();
      for (const { resize, fields } of steps) {
        if (resize !== null) encoder.setPeerTableSize(resize);
        const out: string[] = [];
        decoder.decode(encode(encoder, fields), out);
        assert.deepEqual(pairs(out), fields);
        assert.deepEqual(entries(decoder.table), entries(encoder.table));
      }
    }));
  });
});
