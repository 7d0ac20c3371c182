/**
 * What an authority may be, for both codecs: `Host` and `:authority` (RFC 9112 §3.2, RFC 9113 §8.3.1),
 * the authority of an absolute-form target and a CONNECT target (authority-form, RFC 9112 §3.2.3).
 * The characters are RFC 3986's for reg-name, IPv4 and IP-literal plus the port's (the set of Envoy's
 * HeaderUtility::authorityIsValid, from oghttp2), without `@`: userinfo is not part of `Host` (RFC 9112
 * §3.2, whose 400 this follows) and is forbidden in `:authority` (RFC 9113 §8.3.1); a port, when there
 * is one, is digits. That is stricter than Envoy's HTTP/1 codec, which lets a Host with userinfo or a
 * non-numeric port through.
 */

/** 1 where a character may appear in an authority. */
const AUTHORITY = new Uint8Array(128);
for (const c of "!$%&'()*+,-.:;=[]_~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") AUTHORITY[c.charCodeAt(0)] = 1;

/** Envoy's `HeaderUtility::getPortStart`: where `:port` begins in an authority (the last colon, outside a bracketed IP literal), or -1. */
export function portStart(authority: string): number {
  const colon = authority.lastIndexOf(':');
  return colon < 0 || authority.lastIndexOf(']') > colon ? -1 : colon;
}

/** Whether `authority` (a Host or `:authority` value) has only authority characters, and digits after its port colon. */
export function isValidAuthority(authority: string): boolean {
  // One pass (every request's Host goes through here): what follows the last `:` must be digits, unless a
  // `]` closed an IP literal after it, in which case that colon was the literal's (as `portStart` reads it).
  let afterColon = false;
  let nonDigit = false;
  for (let i = 0; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c >= 128 || AUTHORITY[c] === 0) return false;
    if (c === 0x3a) {
      afterColon = true;
      nonDigit = false;
    } else if (c === 0x5d) {
      afterColon = false;
      nonDigit = false;
    } else if (afterColon && (c < 0x30 || c > 0x39)) nonDigit = true;
  }
  return !nonDigit;
}

/** The port after `colon` in `authority` (digits, as `isValidAuthority` holds): -1 without one, -2 when not 1 to 65535. */
function portOf(authority: string, colon: number): number {
  if (colon < 0) return -1;
  const n = authority.length - colon - 1;
  if (n < 1 || n > 5) return -2;
  let port = 0;
  for (let i = colon + 1; i < authority.length; i++) port = port * 10 + authority.charCodeAt(i) - 0x30;
  return port >= 1 && port <= 65535 ? port : -2;
}

/**
 * Whether `authority` names a host to connect to: a valid authority with a host, and a port of 1 to
 * 65535 when it has one (`requirePort`: it must, as a CONNECT target's authority-form, RFC 9112 §3.2.3).
 */
export function isConnectableAuthority(authority: string, requirePort: boolean): boolean {
  if (authority.length === 0 || !isValidAuthority(authority)) return false;
  const colon = portStart(authority);
  if (colon === 0) return false;
  const port = portOf(authority, colon);
  return port === -1 ? !requirePort : port > 0;
}

/** An `http://` or `https://` absolute-form request target, split. */
export interface AbsoluteForm {
  /** Host and port: what follows any userinfo, up to the path, query or fragment. */
  readonly authority: string;
  /** Path and query (`/` when the target has neither path nor query), without the fragment. */
  readonly path: string;
  readonly scheme: 'http' | 'https';
}

/** Splits an absolute-form target (`http://host:port/p?q`), or undefined for a target of another form. */
export function splitAbsoluteForm(target: string): AbsoluteForm | undefined {
  // The scheme compared in place, case-insensitively (every request to the outbound listener is absolute-form).
  if ((target.charCodeAt(0) | 0x20) !== 0x68 || (target.charCodeAt(1) | 0x20) !== 0x74 || (target.charCodeAt(2) | 0x20) !== 0x74 || (target.charCodeAt(3) | 0x20) !== 0x70) return undefined;
  const https = (target.charCodeAt(4) | 0x20) === 0x73;
  const sep = https ? 5 : 4;
  if (!target.startsWith('://', sep)) return undefined;
  let end = sep + 3;
  let start = end;
  for (; end < target.length; end++) {
    const c = target.charCodeAt(end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // '/', '?', '#'
    if (c === 0x40) start = end + 1; // '@': userinfo before it
  }
  let path = target.slice(end);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (path === '' || path.charCodeAt(0) === 0x3f) path = `/${path}`;
  return { authority: target.slice(start, end), path, scheme: https ? 'https' : 'http' };
}
