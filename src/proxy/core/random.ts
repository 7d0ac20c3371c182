/**
 * Unpredictable bytes for the data path (`x-request-id` UUIDs, WebSocket keys): the kernel's CSPRNG
 * (`/dev/urandom`, what OpenSSL seeds from), read 4 KiB at a time into a pool. node:crypto would give
 * the same from OpenSSL's generator, but loading it costs each sidecar ~1.4 MB of memory for this one
 * call.
 */
import { openSync, readSync } from 'node:fs';

const POOL_BYTES = 4096;
/** Random bytes; those from `used` on are not handed out yet. */
export const pool = Buffer.allocUnsafe(POOL_BYTES);
let used = POOL_BYTES;
let fd = -1;

function refill(): void {
  if (fd < 0) fd = openSync('/dev/urandom', 'r');
  for (let off = 0; off < POOL_BYTES;) off += readSync(fd, pool, off, POOL_BYTES - off, null);
  used = 0;
}

/** Takes `n` (≤ 4096) fresh bytes: they are `pool[at]` to `pool[at + n - 1]`, valid until the next call. */
export function takeRandom(n: number): number {
  if (used + n > POOL_BYTES) refill();
  const at = used;
  used += n;
  return at;
}

/** `n` fresh random bytes in a buffer of their own. */
export function randomBytes(n: number): Buffer {
  const at = takeRandom(n);
  return Buffer.from(pool.subarray(at, at + n));
}
