/**
 * HTTP/2 header blocks as HTTP messages (RFC 9113 §8.2, §8.3): checks a decoded `[name, value, …]` list
 * and turns it into the proxy's header map. A block that fails is malformed: the stream is reset with
 * PROTOCOL_ERROR (a request gets no response), as RFC 9113 §8.1.1 says. The checks:
 * - names are lowercase tokens; pseudo-header fields come first, are known, and appear once;
 * - values carry no control characters but HTAB, and no leading or trailing whitespace;
 * - no connection-specific fields (`connection`, `keep-alive`, `proxy-connection`, `transfer-encoding`,
 *   `upgrade`), and `te` only as `trailers`;
 * - a request has `:method`, and `:scheme` and a non-empty `:path` unless it is a plain CONNECT, which has
 *   `:authority` and neither of them; `:protocol` (RFC 8441) only with CONNECT; a response has a
 *   three-digit `:status`; trailers have no pseudo-header fields;
 * - `content-length`, when present, is one decimal number (repeated only with the same value);
 * - `:authority` and `host` are valid authorities without userinfo (`codec/authority.ts`), and `:path`
 *   has no space or control character (what no HTTP/1.1 request target could carry).
 * Split `cookie` fields are joined with "; " (RFC 9113 §8.2.3); other repeated fields become arrays.
 */
import type { HeaderMap } from '../../http/headers.ts';
import { isConnectableAuthority, isValidAuthority } from '../authority.ts';
import { contentLengthValue } from '../content-length.ts';
import { isLowercaseToken } from '../token.ts';

/** Whether a value may be carried: no control characters but HTAB, no whitespace at either end. */
export function isValidValue(value: string): boolean {
  const n = value.length;
  if (n === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** Fields HTTP/2 does not carry (RFC 9113 §8.2.2); `te` is allowed as `trailers` only. */
export function isConnectionSpecific(name: string): boolean {
  switch (name) {
    case 'connection': case 'keep-alive': case 'proxy-connection': case 'transfer-encoding': case 'upgrade':
      return true;
    default:
      return false;
  }
}

export interface RequestHead {
  readonly method: string;
  readonly scheme: string | undefined;
  readonly authority: string | undefined;
  /** Empty for a plain CONNECT. */
  readonly path: string;
  /** RFC 8441 extended CONNECT's `:protocol`. */
  readonly protocol: string | undefined;
  readonly headers: HeaderMap;
  /** Regular (not pseudo-header) fields, as received. */
  readonly fieldCount: number;
  /** Declared `content-length`, -1 when absent. */
  readonly contentLength: number;
}

export interface ResponseHead {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly contentLength: number;
}

/** Why a block is malformed. */
export class MalformedError extends Error {}

interface Pseudo { method?: string; scheme?: string; authority?: string; path?: string; protocol?: string; status?: string }

/** Reads regular fields from `i` into a header map; returns it with the field count and content-length. */
function regular(fields: readonly string[], i: number): { headers: HeaderMap; count: number; contentLength: number } {
  const headers: HeaderMap = {};
  let count = 0;
  let contentLength = -1;
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) throw new MalformedError(`pseudo-header field ${name} after a regular field`);
    if (!isLowercaseToken(name)) throw new MalformedError(`field name ${JSON.stringify(name)} is not a lowercase token`);
    if (!isValidValue(value)) throw new MalformedError(`invalid value for field ${name} (a control character, or whitespace at either end)`);
    if (isConnectionSpecific(name)) throw new MalformedError(`connection-specific field ${name} in an HTTP/2 message`);
    switch (name) {
      case '__proto__':
        // A plain object keyed by field name would take it as its prototype, not as a field.
        throw new MalformedError('a field named __proto__, which weft cannot carry');
      case 'te':
        if (value !== 'trailers') throw new MalformedError(`te: ${JSON.stringify(value)} (only "trailers" is allowed in HTTP/2)`);
        break;
      case 'content-length': {
        const n = contentLengthValue(value);
        if (n < 0 || (contentLength >= 0 && n !== contentLength)) throw new MalformedError(`invalid content-length ${JSON.stringify(value)}`);
        contentLength = n;
        break;
      }
      default:
    }
    count++;
    const prev = headers[name];
    if (prev === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'cookie') headers[name] = `${prev as string}; ${value}`;
    else if (Array.isArray(prev)) prev.push(value);
    else headers[name] = [prev, value];
  }
  return { headers, count, contentLength };
}

/** Reads the pseudo-header fields at the start; returns the index of the first regular field. */
function pseudo(fields: readonly string[], out: Pseudo, allowed: readonly string[]): number {
  let i = 0;
  for (; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) !== 0x3a) break;
    const key = name.slice(1) as keyof Pseudo;
    if (!allowed.includes(name)) throw new MalformedError(`pseudo-header field ${name} is not allowed here`);
    if (out[key] !== undefined) throw new MalformedError(`pseudo-header field ${name} appears twice`);
    const value = fields[i + 1]!;
    if (!isValidValue(value)) throw new MalformedError(`invalid value for ${name}`);
    out[key] = value;
  }
  return i;
}

const REQUEST_PSEUDO = [':method', ':scheme', ':authority', ':path', ':protocol'];
const RESPONSE_PSEUDO = [':status'];

/** Whether a `:path` could be an HTTP/1.1 request target: no space, control character or DEL (RFC 9112 §3.2). */
function isRequestTarget(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** A request head; throws `MalformedError`. */
export function requestHead(fields: readonly string[]): RequestHead {
  const p: Pseudo = {};
  const { headers, count, contentLength } = regular(fields, pseudo(fields, p, REQUEST_PSEUDO));
  const method = p.method;
  if (method === undefined || method === '') throw new MalformedError('request without :method');
  if (method === 'CONNECT' && p.protocol === undefined) {
    if (p.authority === undefined || p.authority === '') throw new MalformedError('CONNECT without :authority');
    if (p.scheme !== undefined || p.path !== undefined) throw new MalformedError('CONNECT with :scheme or :path');
    // RFC 9113 §8.5: the host and port to connect to.
    if (!isConnectableAuthority(p.authority, true)) throw new MalformedError(`CONNECT :authority ${JSON.stringify(p.authority.slice(0, 64))} is not host:port with a port of 1 to 65535`);
  } else {
    if (p.protocol !== undefined && method !== 'CONNECT') throw new MalformedError(':protocol on a request that is not CONNECT');
    if (p.scheme === undefined || p.scheme === '') throw new MalformedError('request without :scheme');
    if (p.path === undefined || p.path === '') throw new MalformedError('request without :path');
    const originForm = p.path.charCodeAt(0) === 0x2f || (p.path === '*' && method === 'OPTIONS');
    if (!originForm && (p.scheme === 'http' || p.scheme === 'https')) throw new MalformedError(`:path ${JSON.stringify(p.path.slice(0, 64))} is neither origin-form nor * for OPTIONS`);
    if (!isRequestTarget(p.path)) throw new MalformedError(`:path ${JSON.stringify(p.path.slice(0, 64))} has a space or control character`);
  }
  // RFC 9113 §8.3.1: `:authority` MUST NOT include userinfo; both it and `host` are `host[:port]`.
  if (p.authority !== undefined && !isValidAuthority(p.authority)) throw new MalformedError(`invalid :authority ${JSON.stringify(p.authority.slice(0, 64))}`);
  const host = headers['host'];
  if (typeof host === 'string' ? !isValidAuthority(host) : host !== undefined && !host.every(isValidAuthority)) throw new MalformedError('invalid host field');
  return { method, scheme: p.scheme, authority: p.authority, path: p.path ?? '', protocol: p.protocol, headers, fieldCount: count, contentLength };
}

/** A response head (a 1xx one included); throws `MalformedError`. */
export function responseHead(fields: readonly string[]): ResponseHead {
  const p: Pseudo = {};
  const { headers, contentLength } = regular(fields, pseudo(fields, p, RESPONSE_PSEUDO));
  const status = p.status;
  if (status === undefined || !/^[1-9]\d\d$/.test(status)) throw new MalformedError(status === undefined ? 'response without :status' : `:status ${JSON.stringify(status)} is not three digits`);
  return { status: Number(status), headers, contentLength };
}

/** Trailers; throws `MalformedError`. */
export function trailerFields(fields: readonly string[]): HeaderMap {
  if (fields.length > 0 && fields[0]!.charCodeAt(0) === 0x3a) throw new MalformedError(`pseudo-header field ${fields[0]} in trailers`);
  return regular(fields, 0).headers;
}
