/**
 * Field names the parser meets on nearly every message, as constant strings. A parsed name that is one
 * of them (in any letter case) becomes that constant instead of a copy of the bytes lower-cased: no
 * string is made per field, and the header map is keyed by a string V8 has already interned, which a
 * fresh copy is not (V8 looks every fresh key up in its string table on a keyed store).
 *
 * The lookup hashes the name as the parser validates it (`step` per character, `find` at the end), so
 * an unknown name costs a multiply per character and one table probe.
 */

const NAMES = [
  // requests
  'host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'authorization', 'cookie', 'origin',
  'referer', 'if-none-match', 'if-modified-since', 'upgrade', 'te', 'expect', 'range',
  // responses
  'server', 'date', 'set-cookie', 'location', 'vary', 'etag', 'last-modified', 'expires', 'age',
  'accept-ranges', 'content-encoding', 'www-authenticate', 'retry-after',
  // both
  'content-type', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'cache-control',
  'pragma', 'trailer', 'via',
  // what meshes and proxies add
  'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-client-cert',
  'x-real-ip', 'x-envoy-attempt-count', 'x-envoy-expected-rq-timeout-ms', 'x-envoy-upstream-service-time',
  'x-envoy-decorator-operation', 'x-envoy-peer-metadata', 'x-envoy-peer-metadata-id', 'x-envoy-original-path',
  'x-envoy-internal', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3',
  'traceparent', 'tracestate', 'grpc-timeout', 'grpc-status', 'grpc-message', 'x-weft-error',
] as const;

const SIZE = 256; // a power of two, several times the number of names
const table: (string | undefined)[] = new Array<string | undefined>(SIZE).fill(undefined);

/** The running hash after one more character (any case: letters hash as lower case). */
export function step(hash: number, code: number): number {
  return (Math.imul(hash, 31) + (code | 0x20)) | 0;
}

function hashOf(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = step(h, name.charCodeAt(i));
  return h;
}

for (const name of NAMES) {
  let slot = hashOf(name) & (SIZE - 1);
  while (table[slot] !== undefined) slot = (slot + 1) & (SIZE - 1);
  table[slot] = name;
}

/**
 * The constant for the name at `text[from, to)` whose running hash is `hash`, or undefined when it is
 * not one of the common names. The characters must already be known to be tokens (RFC 9110 §5.6.2):
 * then `code | 0x20` equals a lower-case name's character only for that letter in either case, or for
 * the same digit or punctuation.
 */
export function find(text: string, from: number, to: number, hash: number): string | undefined {
  const length = to - from;
  for (let slot = hash & (SIZE - 1); ; slot = (slot + 1) & (SIZE - 1)) {
    const name = table[slot];
    if (name === undefined) return undefined;
    if (name.length !== length) continue;
    let i = 0;
    while (i < length && (text.charCodeAt(from + i) | 0x20) === name.charCodeAt(i)) i++;
    if (i === length) return name;
  }
}
