/**
 * Header knowledge shared by the connection manager and the router: hop-by-hop fields (RFC 9110 §7.6.1),
 * single-value reads of Node's header objects, `x-forwarded-for` parsing, and which addresses count as
 * internal (Envoy's default internal_address_config: RFC 1918, loopback and unique-local IPv6).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Request or response headers as Node parses them: lowercase names, arrays for repeated fields. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/**
 * Whether a field is hop-by-hop and never forwarded (RFC 9110 §7.6.1). `te` is kept by callers when its
 * value is `trailers` (gRPC needs it; Envoy keeps it too). `http2-settings` belongs to the h2c upgrade.
 */
export function isHopByHop(name: string): boolean {
  switch (name) {
    case 'connection': case 'keep-alive': case 'proxy-connection': case 'transfer-encoding':
    case 'upgrade': case 'te': case 'http2-settings':
      return true;
    default:
      return false;
  }
}

const NONE: readonly string[] = [];

/** Field names a `Connection` header lists (they are hop-by-hop too), lowercased; empty when none. */
export function connectionTokens(value: string | string[] | undefined): readonly string[] {
  if (value === undefined || value === 'keep-alive' || value === 'close') return NONE;
  const out: string[] = [];
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '' && token !== 'close' && token !== 'keep-alive' && token !== 'upgrade') out.push(token);
  }
  return out;
}

/** The first value of a header (repeated headers as arrays), or undefined. */
export function firstValue(headers: IncomingHttpHeaders | HeaderMap, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A header as one string (repeated values joined with `,`), or undefined. */
export function joinedValue(headers: IncomingHttpHeaders | HeaderMap, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Whether `te` carries only `trailers` (the one TE value that crosses a proxy). */
export function isTeTrailers(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  const s = (Array.isArray(value) ? value.join(',') : value).toLowerCase();
  return s.split(',').some((t) => t.trim() === 'trailers');
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as the IPv4 address Envoy would see. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Envoy's default internal addresses: 10/8, 172.16/12, 192.168/16, 127/8, ::1 and fc00::/7. */
export function isInternalAddress(address: string): boolean {
  const a = plainAddress(address);
  const dot = a.indexOf('.');
  if (dot >= 0) {
    const o1 = Number(a.slice(0, dot));
    if (o1 === 10 || o1 === 127) return true;
    if (o1 !== 172 && o1 !== 192) return false;
    const dot2 = a.indexOf('.', dot + 1);
    const o2 = Number(a.slice(dot + 1, dot2 < 0 ? a.length : dot2));
    return (o1 === 172 && o2 >= 16 && o2 <= 31) || (o1 === 192 && o2 === 168);
  }
  const lower = a.toLowerCase();
  return lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd');
}

/**
 * The address `hopsBack` entries from the right of `x-forwarded-for` (0 = the last one), trimmed, and
 * whether the header held exactly one address. Envoy reads the client from here when it does not use the
 * connection's address (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-for).
 */
export function xffAddress(value: string | undefined, hopsBack: number): { address: string | undefined; single: boolean } {
  if (value === undefined || value === '') return { address: undefined, single: false };
  const parts = value.split(',');
  const idx = parts.length - 1 - hopsBack;
  const raw = idx >= 0 ? parts[idx]?.trim() : undefined;
  return { address: raw === '' ? undefined : raw, single: parts.length === 1 };
}

/** The authority with its port, defaulting it from the scheme (`example.com` → `example.com:80`). */
export function authorityWithPort(authority: string, scheme: string): string {
  const close = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  if (colon > close) return authority;
  return `${authority}:${scheme === 'https' ? 443 : 80}`;
}
