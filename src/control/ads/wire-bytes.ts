/**
 * Protobuf's wire format at the byte level, for assembling responses by copying instead of through a
 * Writer: sizes are computed first, then everything is written into one buffer. Only what ADS responses
 * need: length-delimited fields with field numbers below 16 (one-byte tags) and lengths below 2^32.
 * https://protobuf.dev/programming-guides/encoding/
 */

/** The tag byte of length-delimited field `field` (< 16): (field << 3) | 2. */
export const tag = (field: number): number => (field << 3) | 2;

/** Bytes of `n` (0 ≤ n < 2^32) as a varint. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Writes `n` (0 ≤ n < 2^32) as a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Size of a length-delimited field (one-byte tag) whose payload is `len` bytes. */
export function fieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** Writes a length-delimited field with payload `bytes`; returns the position after it. */
export function writeBytesField(buf: Buffer, pos: number, field: number, bytes: Uint8Array): number {
  buf[pos++] = tag(field);
  pos = writeVarint(buf, pos, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/** A string's UTF-8 bytes with their length, measured once and written any number of times. */
export interface Utf8 {
  readonly text: string;
  readonly bytes: number;
}

export const utf8 = (text: string): Utf8 => ({ text, bytes: Buffer.byteLength(text, 'utf8') });

/** Size of a string field. */
export const stringFieldSize = (s: Utf8): number => fieldSize(s.bytes);

/** Writes a string field; returns the position after it. */
export function writeStringField(buf: Buffer, pos: number, field: number, s: Utf8): number {
  buf[pos++] = tag(field);
  pos = writeVarint(buf, pos, s.bytes);
  if (s.bytes > 0) buf.write(s.text, pos, s.bytes, 'utf8');
  return pos + s.bytes;
}
