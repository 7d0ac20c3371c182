/** Test fixtures for the HTTP/1 parsers: splitting bytes as reads would, and a seeded PRNG to replay a failing case. */

/** `bytes` cut at `cuts` (any order), as successive reads would deliver it. */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let last = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    pieces.push(bytes.subarray(last, c));
    last = c;
  }
  pieces.push(bytes.subarray(last));
  return pieces;
}

/** A seeded xorshift PRNG in [0, 1). */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
