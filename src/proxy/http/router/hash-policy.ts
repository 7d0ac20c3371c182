/**
 * `RouteAction.hash_policy`: what a consistent-hash load balancer (RING_HASH, MAGLEV) hashes for a
 * request. Policies are evaluated in order; each one that yields a value is folded into the hash
 * (rotate left, xor), and a `terminal` policy that yielded stops the walk — Envoy's
 * `Http::HashPolicyImpl::generateHash`. Envoy hashes with xxHash64; weft uses 32-bit FNV-1a, since only
 * the spread matters and the upstream load balancers take a 32-bit number. A cookie policy with a `ttl`
 * whose cookie the request lacks mints one (the router sends it back as `set-cookie`), as Envoy's router
 * does: its value hashes the downstream connection's addresses, so streams racing on one connection get
 * the same cookie.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routeaction-hashpolicy
 */
import { compileRegexRewrite, replaceAll, type RegexRewrite } from './regex.ts';
import { bool, durationMs, field, has, headerName, list, obj, Problems, str, text } from './proto.ts';
import { queryParameter } from './request.ts';
import type { RouteRequest } from './types.ts';

export interface CookieAttribute {
  readonly name: string;
  readonly value: string;
}

export interface CookieHashPolicy {
  readonly kind: 'cookie';
  readonly name: string;
  /** Present: mint the cookie when the request lacks it (0: a session cookie, no Max-Age). */
  readonly ttlMs: number | undefined;
  readonly path: string;
  readonly attributes: readonly CookieAttribute[];
  readonly terminal: boolean;
}

/** Called when a cookie policy must mint its cookie; returns the value to hash (and to send back). */
export type AddCookie = (policy: CookieHashPolicy) => string;

export type HashPolicy =
  | { readonly kind: 'header'; readonly name: string; readonly rewrite: RegexRewrite | undefined; readonly terminal: boolean }
  | CookieHashPolicy
  | { readonly kind: 'source_ip'; readonly terminal: boolean }
  | { readonly kind: 'query_parameter'; readonly name: string; readonly terminal: boolean }
  | { readonly kind: 'filter_state'; readonly key: string; readonly terminal: boolean };

export function compileHashPolicy(v: unknown, path: string, problems: Problems): HashPolicy | undefined {
  const p = obj(v) ?? {};
  const terminal = bool(p['terminal']);
  if (has(p, 'header')) {
    const h = obj(p['header']) ?? {};
    const at = field(path, 'header');
    const rewrite = has(h, 'regexRewrite') ? compileRegexRewrite(h['regexRewrite'], field(at, 'regexRewrite'), problems) : undefined;
    return { kind: 'header', name: headerName(h['headerName'], field(at, 'headerName'), problems), rewrite, terminal };
  }
  if (has(p, 'cookie')) {
    const c = obj(p['cookie']) ?? {};
    const at = field(path, 'cookie');
    const name = str(c['name']) ?? '';
    if (name === '') problems.add(field(at, 'name'), 'required');
    const attributes = list(c['attributes']).map((a, i) => cookieAttribute(a, field(field(at, 'attributes'), i), problems));
    return { kind: 'cookie', name, ttlMs: durationMs(c, 'ttl', at, problems), path: str(c['path']) ?? '', attributes, terminal };
  }
  if (has(p, 'connectionProperties')) {
    // `source_ip: false` hashes nothing; keep it as a policy that never yields.
    return bool(obj(p['connectionProperties'])?.['sourceIp']) ? { kind: 'source_ip', terminal } : undefined;
  }
  if (has(p, 'queryParameter')) {
    const name = str(obj(p['queryParameter'])?.['name']) ?? '';
    if (name === '') problems.add(field(field(path, 'queryParameter'), 'name'), 'required');
    return { kind: 'query_parameter', name, terminal };
  }
  if (has(p, 'filterState')) {
    const key = str(obj(p['filterState'])?.['key']) ?? '';
    if (key === '') problems.add(field(field(path, 'filterState'), 'key'), 'required');
    return { kind: 'filter_state', key, terminal };
  }
  problems.add(path, 'one of header, cookie, connectionProperties, queryParameter, filterState is required');
  return undefined;
}

function cookieAttribute(v: unknown, path: string, problems: Problems): CookieAttribute {
  const a = obj(v) ?? {};
  const name = text(a, 'name');
  if (name === '') problems.add(field(path, 'name'), 'required');
  return { name, value: text(a, 'value') };
}

export function compileHashPolicies(v: unknown, path: string, problems: Problems): readonly HashPolicy[] {
  const out: HashPolicy[] = [];
  list(v).forEach((p, i) => {
    const c = compileHashPolicy(p, field(path, i), problems);
    if (c !== undefined) out.push(c);
  });
  return out;
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The request's hash under `policies`, or undefined when no policy yielded a value (the load balancer
 * then picks at random). A cookie policy with a TTL whose cookie is absent (or empty) calls `addCookie`
 * and hashes what it returns; without `addCookie` it yields nothing.
 */
export function requestHash(policies: readonly HashPolicy[], request: RouteRequest, addCookie?: AddCookie): number | undefined {
  let hash: number | undefined;
  for (const p of policies) {
    const value = policyValue(p, request, addCookie);
    if (value !== undefined) {
      const h = hashString(value);
      hash = hash === undefined ? h : (((hash << 1) | (hash >>> 31)) ^ h) >>> 0;
    }
    if (p.terminal && hash !== undefined) break;
  }
  return hash;
}

function policyValue(p: HashPolicy, request: RouteRequest, addCookie: AddCookie | undefined): string | undefined {
  switch (p.kind) {
    case 'header':
      return headerValue(p.rewrite, request.headers.values(p.name));
    case 'cookie': {
      // Envoy treats an empty cookie value as no cookie.
      const v = cookieValue(request.headers.get('cookie'), p.name);
      if (v !== undefined && v !== '') return v;
      return p.ttlMs !== undefined && addCookie !== undefined ? addCookie(p) : undefined;
    }
    case 'source_ip':
      return request.sourceAddress;
    case 'query_parameter':
      return queryParameter(request.path ?? '', p.name);
    case 'filter_state':
      return undefined;
  }
}

/**
 * What a header policy hashes: the header's value (rewritten), or with several field lines each one
 * rewritten, then sorted and joined, so that their order does not change the hash (Envoy's
 * `HeaderHashMethod`).
 */
function headerValue(rewrite: RegexRewrite | undefined, v: string | readonly string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return rewrite === undefined ? v : replaceAll(rewrite, v);
  const values = rewrite === undefined ? [...v] : v.map((one) => replaceAll(rewrite, one));
  return values.sort().join('');
}

/**
 * The value of cookie `name` in a `cookie` header (values may be quoted), as Envoy's `parseCookie`.
 * Several HTTP/1.1 `cookie` fields arrive joined with "," (HTTP/2 crumbs with "; "): a cookie value
 * cannot hold either (RFC 6265 §4.1.1), so both separate cookies.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const n = header.length;
  // Scanned in place (no array of parts, no copies of the names): only the value found is sliced.
  for (let start = 0; start < n;) {
    let end = start;
    while (end < n && header.charCodeAt(end) !== 0x3b && header.charCodeAt(end) !== 0x2c) end++;
    let i = start;
    while (i < end && isSpace(header.charCodeAt(i))) i++;
    if (header.startsWith(name, i)) {
      let k = i + name.length;
      while (k < end && isSpace(header.charCodeAt(k))) k++;
      if (k < end && header.charCodeAt(k) === 0x3d) {
        let v0 = k + 1;
        let v1 = end;
        while (v0 < v1 && isSpace(header.charCodeAt(v0))) v0++;
        while (v1 > v0 && isSpace(header.charCodeAt(v1 - 1))) v1--;
        if (v1 - v0 >= 2 && header.charCodeAt(v0) === 0x22 && header.charCodeAt(v1 - 1) === 0x22) return header.slice(v0 + 1, v1 - 1);
        return header.slice(v0, v1);
      }
    }
    start = end + 1;
  }
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * The value Envoy's router mints for a cookie policy: a hash of the downstream connection's remote and
 * local `address:port`, as 16 hex digits (Envoy: xxHash64; weft: two 32-bit FNV-1a lanes). Same connection, same
 * cookie; the client's port makes separate connections differ.
 */
export function mintedCookieValue(remote: string, local: string): string {
  // Two 32-bit FNV-1a lanes (different offset bases; the second reads the string backwards) instead of
  // one 64-bit FNV in BigInt, which cost ~1.5 µs a request in allocations.
  const s = remote + local;
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0, j = s.length - 1; i < s.length; i++, j--) {
    a = Math.imul(a ^ s.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ s.charCodeAt(j), 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The `set-cookie` value for a minted cookie, as Envoy's `Http::Utility::makeSetCookieValue` writes it. */
export function setCookieValue(p: CookieHashPolicy, value: string): string {
  let out = `${p.name}="${value}"`;
  const maxAge = Math.floor((p.ttlMs ?? 0) / 1000);
  if (maxAge > 0) out += `; Max-Age=${maxAge}`;
  if (p.path !== '') out += `; Path=${p.path}`;
  for (const a of p.attributes) out += a.value === '' ? `; ${a.name}` : `; ${a.name}=${a.value}`;
  return `${out}; HttpOnly`;
}
