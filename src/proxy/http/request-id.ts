/**
 * `x-request-id` values: random (version 4) UUIDs, as Envoy generates them. Node's `randomUUID` builds
 * each one from a dozen concatenated pieces (~600 bytes of garbage per request); this writes the 36
 * characters into a reused buffer from the kernel's random bytes (core/random.ts), and makes one
 * string of it.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-request-id
 */
import { pool, takeRandom } from '../core/random.ts';

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const out = Buffer.from('00000000-0000-4000-8000-000000000000', 'latin1');
/** Where the 32 hex digits go in `out` (the dashes stay). */
const DIGITS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

export function randomUuid(): string {
  const from = takeRandom(16);
  for (let i = 0; i < 16; i++) {
    let b = pool[from + i]!;
    if (i === 6) b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // RFC 9562 variant
    const at = DIGITS[i]!;
    out[at] = HEX[b >> 4]!;
    out[at + 1] = HEX[b & 0x0f]!;
  }
  return out.toString('latin1', 0, 36);
}
