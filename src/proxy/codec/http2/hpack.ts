/**
 * HPACK (RFC 7541): the header compression of HTTP/2. One decoder and one encoder per connection, each
 * with its own dynamic table; header blocks must be decoded in the order they arrive, completely, even
 * when the stream they belong to is refused, or the two ends' tables drift apart.
 *
 * - **Decoder**: turns a complete header block into a flat `[name, value, …]` list and its RFC 9113
 *   §6.5.2 size. Any encoding error (bad index, truncated integer or string, invalid Huffman, a table
 *   size update that is late or above what was advertised) throws `HpackError`: the connection then ends
 *   with COMPRESSION_ERROR. Whether names and values are valid HTTP is the connection's check.
 * - **Encoder**: writes fields into a `ByteWriter`. A field already in a table goes out as one index; a
 *   new one is added to the table (literal with incremental indexing) unless it is per-request unique
 *   (`NOT_INDEXED`) or larger than a quarter of the table; credentials go out never-indexed
 *   (RFC 7541 §7.1.3: `authorization`, `proxy-authorization`, cookies under 20 bytes, as nghttp2 does).
 *   Strings are Huffman-coded when that is shorter. The table follows the peer's
 *   SETTINGS_HEADER_TABLE_SIZE, up to the encoder's own cap, and the change is signalled at the start of
 *   the next block.
 */
import type { ByteWriter } from './byte-writer.ts';
import { isLowercaseToken } from '../token.ts';
import { DynamicTable, ENTRY_OVERHEAD, STATIC_COUNT, STATIC_TABLE } from './hpack-table.ts';
import { HuffmanError, huffmanDecode, huffmanEncode, huffmanLength } from './huffman.ts';

/** A header block that cannot be decoded: a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3). */
export class HpackError extends Error {}

/** A field the encoder cannot write (an invalid name or value): nothing of the block may be sent. */
export class HpackEncodeError extends Error {}

/** The default and usual SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). */
export const DEFAULT_TABLE_SIZE = 4096;

/** Name → index of its first static entry; name → value → index of the exact static entry. */
const STATIC_NAMES = new Map<string, number>();
const STATIC_FIELDS = new Map<string, Map<string, number>>();
for (const [i, [name, value]] of STATIC_TABLE.entries()) {
  if (!STATIC_NAMES.has(name)) STATIC_NAMES.set(name, i + 1);
  let values = STATIC_FIELDS.get(name);
  if (values === undefined) STATIC_FIELDS.set(name, (values = new Map()));
  if (!values.has(value)) values.set(value, i + 1);
}

/** Fields whose values are unique per message: indexing them would only evict useful entries. */
const NOT_INDEXED = new Set([
  'x-request-id', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'traceparent', 'x-client-trace-id',
  'x-envoy-upstream-service-time', 'content-range', 'etag',
]);

export class HpackDecoder {
  readonly #table: DynamicTable;
  /** The largest table size the peer may choose: our SETTINGS_HEADER_TABLE_SIZE. */
  #limit: number;
  #pos = 0;

  constructor(limit = DEFAULT_TABLE_SIZE) {
    this.#limit = limit;
    this.#table = new DynamicTable(limit);
  }

  /** The dynamic table (for tests and debugging). */
  get table(): DynamicTable {
    return this.#table;
  }

  /**
   * Decodes a complete header block, appending `name, value` pairs to `out`. Returns the header list size
   * (names and values in octets, plus 32 per field), for SETTINGS_MAX_HEADER_LIST_SIZE. Past `limit`
   * octets fields are still decoded (the table must stay in step) but no longer appended: a small block
   * of references to one large entry cannot make a huge list.
   */
  decode(block: Buffer, out: string[], limit = Infinity): number {
    const end = block.length;
    const table = this.#table;
    let size = 0;
    let fields = false;
    this.#pos = 0;
    while (this.#pos < end) {
      const first = block[this.#pos]!;
      let name: string;
      let value: string;
      if ((first & 0x80) !== 0) {
        const index = this.#int(block, 7);
        if (index === 0) throw new HpackError('indexed header field with index 0');
        name = this.#name(index);
        value = index <= STATIC_COUNT ? STATIC_TABLE[index - 1]![1] : table.value(index - STATIC_COUNT - 1);
      } else if ((first & 0xe0) === 0x20) {
        if (fields) throw new HpackError('dynamic table size update after the first header field of a block');
        const max = this.#int(block, 5);
        if (max > this.#limit) throw new HpackError(`dynamic table size update to ${max} octets, above the ${this.#limit} allowed`);
        table.resize(max);
        continue;
      } else {
        // Literal: with incremental indexing (01, 6-bit index), without indexing (0000) or never indexed (0001).
        const indexing = (first & 0x40) !== 0;
        const index = this.#int(block, indexing ? 6 : 4);
        name = index === 0 ? this.#string(block) : this.#name(index);
        value = this.#string(block);
        if (indexing) table.add(name, value);
      }
      fields = true;
      size += name.length + value.length + ENTRY_OVERHEAD;
      if (size <= limit) out.push(name, value);
    }
    return size;
  }

  #name(index: number): string {
    if (index <= STATIC_COUNT) return STATIC_TABLE[index - 1]![0];
    const i = index - STATIC_COUNT - 1;
    if (i >= this.#table.length) throw new HpackError(`header field index ${index} is beyond the table (${STATIC_COUNT} static + ${this.#table.length} dynamic entries)`);
    return this.#table.name(i);
  }

  /** An integer with an N-bit prefix (RFC 7541 §5.1), at most 2^31 - 1. */
  #int(block: Buffer, prefix: number): number {
    const max = (1 << prefix) - 1;
    let value = block[this.#pos++]! & max;
    if (value < max) return value;
    let factor = 1;
    for (;;) {
      if (this.#pos >= block.length) throw new HpackError('header block ends inside an integer');
      const b = block[this.#pos++]!;
      value += (b & 0x7f) * factor;
      if (value > 0x7fffffff) throw new HpackError('integer in header block is too large');
      if ((b & 0x80) === 0) return value;
      factor *= 128;
    }
  }

  /** A string literal (RFC 7541 §5.2). */
  #string(block: Buffer): string {
    if (this.#pos >= block.length) throw new HpackError('header block ends before a string literal');
    const huffman = (block[this.#pos]! & 0x80) !== 0;
    const length = this.#int(block, 7);
    const start = this.#pos;
    const end = start + length;
    if (end > block.length) throw new HpackError(`string literal of ${length} octets runs past the end of the header block`);
    this.#pos = end;
    if (!huffman) return block.toString('latin1', start, end);
    try {
      return huffmanDecode(block, start, end);
    } catch (err) {
      if (err instanceof HuffmanError) throw new HpackError(err.message);
      throw err;
    }
  }
}

export class HpackEncoder {
  readonly #table: DynamicTable;
  /** The largest table this encoder keeps, whatever the peer allows. */
  readonly #cap: number;
  /** name → value → sequence number of the newest dynamic entry with both. */
  readonly #fields = new Map<string, Map<string, number>>();
  /** name → sequence number of the newest dynamic entry with that name. */
  readonly #names = new Map<string, number>();
  /** Table size updates to signal at the start of the next block: the smallest since the last block, then the current. */
  #lowest = -1;
  #update = -1;

  constructor(cap = DEFAULT_TABLE_SIZE) {
    this.#cap = cap;
    // Until the peer's SETTINGS arrive, its decoder's table has the default size (RFC 9113 §6.5.2).
    this.#table = new DynamicTable(Math.min(cap, DEFAULT_TABLE_SIZE));
    this.#table.onEvict = (seq, name, value) => {
      const values = this.#fields.get(name);
      if (values !== undefined && values.get(value) === seq) {
        values.delete(value);
        if (values.size === 0) this.#fields.delete(name);
      }
      if (this.#names.get(name) === seq) this.#names.delete(name);
    };
  }

  get table(): DynamicTable {
    return this.#table;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed. */
  setPeerTableSize(size: number): void {
    const next = Math.min(size, this.#cap);
    if (next === this.#table.max) return;
    this.#table.resize(next);
    this.#lowest = this.#lowest < 0 ? next : Math.min(this.#lowest, next);
    this.#update = next;
  }

  /** Starts a header block: signals a pending table size change. */
  begin(w: ByteWriter): void {
    if (this.#update < 0) return;
    if (this.#lowest < this.#update) writeInt(w, 0x20, 5, this.#lowest);
    writeInt(w, 0x20, 5, this.#update);
    this.#lowest = -1;
    this.#update = -1;
  }

  /** Writes one field (name lowercase). Throws `HpackEncodeError` for a name or value HTTP/2 cannot carry. */
  field(name: string, value: string, w: ByteWriter): void {
    const table = this.#table;
    const sensitive = name === 'authorization' || name === 'proxy-authorization' || (name === 'cookie' && value.length < 20);
    if (!sensitive) {
      const seq = this.#fields.get(name)?.get(value);
      if (seq !== undefined) {
        writeInt(w, 0x80, 7, STATIC_COUNT + table.inserted - seq);
        return;
      }
      const index = STATIC_FIELDS.get(name)?.get(value);
      if (index !== undefined) {
        writeInt(w, 0x80, 7, index);
        return;
      }
    }
    let nameIndex = STATIC_NAMES.get(name) ?? 0;
    if (nameIndex === 0) {
      const seq = this.#names.get(name);
      if (seq !== undefined) nameIndex = STATIC_COUNT + table.inserted - seq;
    }
    const indexing = !sensitive && !NOT_INDEXED.has(name) && (name.length + value.length + ENTRY_OVERHEAD) * 4 <= table.max;
    if (nameIndex === 0) checkName(name);
    checkValue(name, value);
    if (indexing) writeInt(w, 0x40, 6, nameIndex);
    else writeInt(w, sensitive ? 0x10 : 0x00, 4, nameIndex);
    if (nameIndex === 0) writeString(w, name);
    writeString(w, value);
    if (!indexing) return;
    table.add(name, value);
    const seq = table.inserted - 1;
    let values = this.#fields.get(name);
    if (values === undefined) this.#fields.set(name, (values = new Map()));
    values.set(value, seq);
    this.#names.set(name, seq);
  }
}

/** An integer with an N-bit prefix, the first byte's other bits `flags` (RFC 7541 §5.1). */
export function writeInt(w: ByteWriter, flags: number, prefix: number, value: number): void {
  const max = (1 << prefix) - 1;
  w.ensure(6);
  const buf = w.buf;
  if (value < max) {
    buf[w.pos++] = flags | value;
    return;
  }
  buf[w.pos++] = flags | max;
  value -= max;
  while (value >= 128) {
    buf[w.pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[w.pos++] = value;
}

function writeString(w: ByteWriter, s: string): void {
  const coded = huffmanLength(s);
  if (coded < s.length) {
    writeInt(w, 0x80, 7, coded);
    w.ensure(coded);
    w.pos = huffmanEncode(s, w.buf, w.pos);
    return;
  }
  writeInt(w, 0x00, 7, s.length);
  w.ensure(s.length);
  const buf = w.buf;
  let pos = w.pos;
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  w.pos = pos;
}

/** Field names: lowercase tokens (RFC 9113 §8.2.1), pseudo-header names with their leading colon. */
function checkName(name: string): void {
  if (name.length === 0) throw new HpackEncodeError('empty header name');
  if (!isLowercaseToken(name, name.charCodeAt(0) === 0x3a ? 1 : 0)) throw new HpackEncodeError(`header name ${JSON.stringify(name)} is not a lowercase token`);
}

/** Field values: no NUL, CR or LF (RFC 9113 §8.2.1), and latin1 only. */
function checkValue(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) throw new HpackEncodeError(`invalid character ${c === 0 ? 'NUL' : c === 0x0a ? 'LF' : c === 0x0d ? 'CR' : `U+${c.toString(16).toUpperCase()}`} in the value of header ${JSON.stringify(name)}`);
  }
}
