/**
 * The hash functions Envoy's consistent-hash balancers use, bit-exact: xxHash64 (HashUtil::xxHash64,
 * the default for RING_HASH and the only one for MAGLEV) and 64-bit MurmurHash2 with libstdc++'s seed
 * (MurmurHash::murmurHash2, RING_HASH's MURMUR_HASH_2). They run when a ring or table is built (once per
 * membership change), never per request, so BigInt arithmetic is fine here.
 *
 * Request hashes arrive as JS numbers (`PickContext.hash`); rings and tables work on 32-bit positions:
 * a 64-bit hash keeps its top 32 bits (so lookups order like Envoy's 64-bit ring), a smaller number is
 * taken as a 32-bit hash.
 */

const MASK = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

function rotl(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK;
}

function round(acc: bigint, input: bigint): bigint {
  return (rotl((acc + input * P2) & MASK, 31n) * P1) & MASK;
}

function mergeRound(acc: bigint, v: bigint): bigint {
  return (((acc ^ round(0n, v)) * P1) + P4) & MASK;
}

function stripes(buf: Buffer, seed: bigint): { h: bigint; p: number } {
  let v1 = (seed + P1 + P2) & MASK;
  let v2 = (seed + P2) & MASK;
  let v3 = seed;
  let v4 = (seed - P1) & MASK;
  let p = 0;
  for (; p + 32 <= buf.length; p += 32) {
    v1 = round(v1, buf.readBigUInt64LE(p));
    v2 = round(v2, buf.readBigUInt64LE(p + 8));
    v3 = round(v3, buf.readBigUInt64LE(p + 16));
    v4 = round(v4, buf.readBigUInt64LE(p + 24));
  }
  let h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
  h = mergeRound(mergeRound(mergeRound(mergeRound(h, v1), v2), v3), v4);
  return { h, p };
}

/** XXH64 of the UTF-8 bytes of `input`. */
export function xxHash64(input: string | Buffer, seed = 0n): bigint {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let h: bigint;
  let p = 0;
  if (buf.length >= 32) ({ h, p } = stripes(buf, seed & MASK));
  else h = (seed + P5) & MASK;
  h = (h + BigInt(buf.length)) & MASK;
  for (; p + 8 <= buf.length; p += 8) {
    h ^= round(0n, buf.readBigUInt64LE(p));
    h = ((rotl(h, 27n) * P1) + P4) & MASK;
  }
  if (p + 4 <= buf.length) {
    h ^= (BigInt(buf.readUInt32LE(p)) * P1) & MASK;
    h = ((rotl(h, 23n) * P2) + P3) & MASK;
    p += 4;
  }
  for (; p < buf.length; p++) {
    h ^= (BigInt(buf[p]!) * P5) & MASK;
    h = (rotl(h, 11n) * P1) & MASK;
  }
  h ^= h >> 33n;
  h = (h * P2) & MASK;
  h ^= h >> 29n;
  h = (h * P3) & MASK;
  h ^= h >> 32n;
  return h;
}

const MUL = 0xc6a4a7935bd1e995n;
/** libstdc++'s std::hash seed, Envoy's MurmurHash::STD_HASH_SEED. */
export const STD_HASH_SEED = 0xc70f6907n;

function shiftMix(v: bigint): bigint {
  return v ^ (v >> 47n);
}

/** 64-bit MurmurHash2 as libstdc++'s `_Hash_bytes` (Envoy's `murmurHash2`). */
export function murmurHash2(input: string | Buffer, seed = STD_HASH_SEED): bigint {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const len = buf.length;
  const aligned = len & ~7;
  let h = (seed ^ ((BigInt(len) * MUL) & MASK)) & MASK;
  for (let p = 0; p < aligned; p += 8) {
    const data = (shiftMix((buf.readBigUInt64LE(p) * MUL) & MASK) * MUL) & MASK;
    h ^= data;
    h = (h * MUL) & MASK;
  }
  if ((len & 7) !== 0) {
    let data = 0n;
    for (let i = len - 1; i >= aligned; i--) data = (data << 8n) + BigInt(buf[i]!);
    h ^= data;
    h = (h * MUL) & MASK;
  }
  h = (shiftMix(h) * MUL) & MASK;
  return shiftMix(h);
}

/** The top 32 bits of a 64-bit hash: its position on a 32-bit ring, ordered as the 64-bit value. */
export function top32(h: bigint): number {
  return Number(h >> 32n);
}

const TWO_32 = 0x100000000;

/** A request hash (`PickContext.hash`) as a 32-bit ring position (see the module comment). */
export function ringPosition(hash: number): number {
  if (!(hash >= 0) || !Number.isFinite(hash)) return 0;
  return hash >= TWO_32 ? Math.floor(hash / TWO_32) >>> 0 : hash >>> 0;
}
