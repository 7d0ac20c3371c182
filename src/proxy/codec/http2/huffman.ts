/**
 * HPACK's static Huffman code (RFC 7541 §5.2, Appendix B): string literals in header blocks may be
 * sent Huffman-coded. The code is canonical (codes of one length are consecutive, in symbol order, and
 * each length continues from the last code of the shorter one), so the table below holds only each
 * symbol's code length; the codes are derived from it at load.
 *
 * Decoding walks a 4-bit state machine (one table lookup per nibble, at most one symbol per nibble since
 * no code is shorter than 5 bits), built once from the code tree. A string is rejected when it contains
 * the EOS symbol or ends in padding that is longer than 7 bits or not all ones (RFC 7541 §5.2).
 */

/** Code length in bits of each byte value 0–255, then of EOS (256), from RFC 7541 Appendix B. */
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //         0x20 ' ' … '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //              0x30 '0' … '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                0x40 '@' … 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //             0x50 'P' … '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                0x60 '`' … 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //            0x70 'p' … DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0
  30, //                                                              EOS
];

const EOS = 256;
const LENGTHS = Uint8Array.from(CODE_LENGTHS);
/** Each symbol's code, right-aligned. */
const CODES = new Uint32Array(257);

{
  const order = Array.from({ length: 257 }, (_, s) => s).sort((a, b) => LENGTHS[a]! - LENGTHS[b]! || a - b);
  let code = 0;
  let length = LENGTHS[order[0]!]!;
  for (const s of order) {
    code <<= LENGTHS[s]! - length;
    length = LENGTHS[s]!;
    CODES[s] = code++;
  }
}

// ---- the decoding state machine ----

/** Transition entry: next state in bits 0–7, emitted byte in 8–15. */
const EMIT = 1 << 16;
const FAIL = 1 << 17;
/** The state after this nibble may end a string: it is the root, or at most 7 one-bits below it. */
const ACCEPT = 1 << 18;

const TRANSITIONS = buildTransitions();

function buildTransitions(): Int32Array {
  // The code tree: internal nodes 0…255 (0 the root), children as node ids, leaves as -(symbol + 1).
  const children = new Int32Array(256 * 2).fill(0);
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let s = 0; s <= EOS; s++) {
    const length = LENGTHS[s]!;
    let node = 0;
    for (let i = length - 1; i > 0; i--) {
      const bit = (CODES[s]! >>> i) & 1;
      let next = children[node * 2 + bit]!;
      if (next === 0) {
        next = nodes++;
        children[node * 2 + bit] = next;
        depth[next] = depth[node]! + 1;
        allOnes[next] = allOnes[node]! & bit;
      }
      node = next;
    }
    children[node * 2 + (CODES[s]! & 1)] = -(s + 1);
  }
  const table = new Int32Array(256 * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const child = children[node * 2 + ((nibble >>> i) & 1)]!;
        if (child >= 0) {
          node = child;
          continue;
        }
        const symbol = -child - 1;
        if (symbol === EOS) {
          entry = FAIL;
          break;
        }
        entry = EMIT | (symbol << 8);
        node = 0;
      }
      if (entry !== FAIL && allOnes[node] === 1 && depth[node]! <= 7) entry |= ACCEPT;
      table[state * 16 + nibble] = entry | node;
    }
  }
  return table;
}

/** A Huffman-coded string that is not valid (RFC 7541 §5.2). */
export class HuffmanError extends Error {}

let scratch = Buffer.allocUnsafe(4096);

/** Decodes `src[start, end)` to a latin1 string; throws `HuffmanError`. */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  // Every code is at least 5 bits long.
  const most = Math.ceil(((end - start) * 8) / 5);
  if (most > scratch.length) scratch = Buffer.allocUnsafe(Math.max(most, scratch.length * 2));
  const out = scratch;
  let n = 0;
  let state = 0;
  let entry = ACCEPT;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    entry = TRANSITIONS[(state << 4) | (byte >>> 4)]!;
    if ((entry & FAIL) !== 0) throw new HuffmanError('Huffman-coded string contains EOS');
    if ((entry & EMIT) !== 0) out[n++] = (entry >>> 8) & 0xff;
    state = entry & 0xff;
    entry = TRANSITIONS[(state << 4) | (byte & 0x0f)]!;
    if ((entry & FAIL) !== 0) throw new HuffmanError('Huffman-coded string contains EOS');
    if ((entry & EMIT) !== 0) out[n++] = (entry >>> 8) & 0xff;
    state = entry & 0xff;
  }
  if ((entry & ACCEPT) === 0) throw new HuffmanError('Huffman-coded string ends in padding that is not the start of EOS (all ones, at most 7 bits)');
  return out.toString('latin1', 0, n);
}

/** Bytes `s` (latin1) takes Huffman-coded. */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/** Writes `s` (latin1) Huffman-coded at `out[pos]` (room for `huffmanLength(s)` bytes); returns the end. */
export function huffmanEncode(s: string, out: Uint8Array, pos: number): number {
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const symbol = s.charCodeAt(i) & 0xff;
    let code = CODES[symbol]!;
    let length = LENGTHS[symbol]!;
    if (length > 24) {
      // At most 7 bits are pending: push the code's high bits first so the accumulator stays in 31 bits.
      const high = length - 24;
      acc = (acc << high) | (code >>> 24);
      bits += high;
      code &= 0xffffff;
      length = 24;
      while (bits >= 8) {
        bits -= 8;
        out[pos++] = (acc >>> bits) & 0xff;
      }
      acc &= (1 << bits) - 1;
    }
    acc = (acc << length) | code;
    bits += length;
    while (bits >= 8) {
      bits -= 8;
      out[pos++] = (acc >>> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out[pos++] = ((acc << (8 - bits)) | (0xff >>> bits)) & 0xff;
  return pos;
}
