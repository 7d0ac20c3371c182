/**
 * RFC 9110's token characters (tchar, §5.6.2), the grammar of methods and field names, for both codecs
 * and the HTTP inspector. HTTP/2 field names are tokens without uppercase letters (RFC 9113 §8.2.1).
 */

/** 1 where a character may appear in a token. */
export const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

/** TOKEN without uppercase letters. */
const LOWERCASE_TOKEN = TOKEN.map((ok, c) => (c >= 0x41 && c <= 0x5a ? 0 : ok));

function all(table: Uint8Array, s: string, start: number): boolean {
  if (s.length <= start) return false;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || table[c] === 0) return false;
  }
  return true;
}

/** Whether `s` is a non-empty token (a method or a field name). */
export function isToken(s: string): boolean {
  return all(TOKEN, s, 0);
}

/** Whether `s` from `start` is a non-empty token without uppercase letters (an HTTP/2 field name). */
export function isLowercaseToken(s: string, start = 0): boolean {
  return all(LOWERCASE_TOKEN, s, start);
}
