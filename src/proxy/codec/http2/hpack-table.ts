/**
 * HPACK's header tables (RFC 7541 §2.3): the static table of 61 common fields, and the dynamic table
 * each direction of a connection keeps, a FIFO bounded in octets (an entry costs its name's and value's
 * lengths plus 32). Index 1…61 is the static table, 62 on the dynamic table, newest entry first.
 */

/** RFC 7541 Appendix A, index 1 first: name, value ('' when the entry has none). */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

export const STATIC_COUNT = STATIC_TABLE.length;

/** What an entry costs beyond its name and value (RFC 7541 §4.1). */
export const ENTRY_OVERHEAD = 32;

/** A dynamic table: a ring of entries, newest at `#head`. */
export class DynamicTable {
  #names: string[] = new Array<string>(16);
  #values: string[] = new Array<string>(16);
  /** Slot of the newest entry. */
  #head = 0;
  #count = 0;
  #size = 0;
  #max: number;
  /** Entries ever stored: the newest one's sequence number is `inserted - 1`, the oldest's `inserted - length`. */
  inserted = 0;
  /** Called with an entry's sequence number, name and value when it is evicted (the encoder's index). */
  onEvict: ((seq: number, name: string, value: string) => void) | undefined;

  constructor(max: number) {
    this.#max = max;
  }

  get length(): number {
    return this.#count;
  }

  /** Octets in use. */
  get size(): number {
    return this.#size;
  }

  get max(): number {
    return this.#max;
  }

  /** Entry `i` (0 = newest): name. */
  name(i: number): string {
    return this.#names[(this.#head - i) & (this.#names.length - 1)]!;
  }

  value(i: number): string {
    return this.#values[(this.#head - i) & (this.#values.length - 1)]!;
  }

  /** Adds an entry, evicting the oldest ones to make room; an entry larger than the table empties it. */
  add(name: string, value: string): void {
    const cost = name.length + value.length + ENTRY_OVERHEAD;
    if (cost > this.#max) {
      this.#evictTo(0);
      return;
    }
    this.#evictTo(this.#max - cost);
    if (this.#count === this.#names.length) this.#grow();
    const mask = this.#names.length - 1;
    this.#head = (this.#head + 1) & mask;
    this.#names[this.#head] = name;
    this.#values[this.#head] = value;
    this.#count++;
    this.#size += cost;
    this.inserted++;
  }

  /** A new maximum size (a table size update, or the peer's SETTINGS_HEADER_TABLE_SIZE for an encoder). */
  resize(max: number): void {
    this.#max = max;
    this.#evictTo(max);
  }

  #evictTo(size: number): void {
    const mask = this.#names.length - 1;
    while (this.#size > size && this.#count > 0) {
      const slot = (this.#head - this.#count + 1) & mask;
      const name = this.#names[slot]!;
      const value = this.#values[slot]!;
      this.#size -= name.length + value.length + ENTRY_OVERHEAD;
      this.#count--;
      this.onEvict?.(this.inserted - 1 - this.#count, name, value);
      this.#names[slot] = '';
      this.#values[slot] = '';
    }
  }

  #grow(): void {
    const capacity = this.#names.length * 2;
    const names = new Array<string>(capacity);
    const values = new Array<string>(capacity);
    for (let i = 0; i < this.#count; i++) {
      names[this.#count - 1 - i] = this.name(i);
      values[this.#count - 1 - i] = this.value(i);
    }
    this.#names = names;
    this.#values = values;
    this.#head = this.#count - 1;
  }
}
