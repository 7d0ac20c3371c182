/**
 * What an authority may be, for both codecs: `Host` and `:authority` (RFC 9112 §3.2, RFC 9113 §8.3.1),
 * the authority of an absolute-form target and a CONNECT target (authority-form, RFC 9112 §3.2.3).
 * The characters are RFC 3986's for reg-name, IPv4 and IP-literal plus the port's, as Envoy's
 * HeaderUtility::authorityIsValid (oghttp2's set), without `@`: userinfo is not part of `Host` (RFC 9112
 * §3.2) and is forbidden in `:authority` (RFC 9113 §8.3.1). A port, when there is one, is digits.
 */

/** 1 where a character may appear in an authority. */
const AUTHORITY = new Uint8Array(128);
for (const c of "!$%&'()*+,-.:;=[]_~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") AUTHORITY[c.charCodeAt(0)] = 1;

/** Where the port's `:` is in `authority` (the last colon, outside an IP literal), else -1. */
function portColon(authority: string): number {
  const colon = authority.lastIndexOf(':');
  return colon < 0 || authority.lastIndexOf(']') > colon ? -1 : colon;
}

/** Whether `authority` (a Host or `:authority` value) has only authority characters, and digits after its port colon. */
export function isValidAuthority(authority: string): boolean {
  const colon = portColon(authority);
  for (let i = 0; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c >= 128 || AUTHORITY[c] === 0) return false;
    if (i > colon && colon >= 0 && (c < 0x30 || c > 0x39)) return false;
  }
  return true;
}
