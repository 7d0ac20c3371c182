/**
 * What the connection manager does to every request's headers before routing, as Envoy's
 * ConnectionManagerUtility::mutateRequestHeaders: `x-forwarded-for` / `x-forwarded-proto` (append the
 * client address when `use_remote_address`), internal vs external requests (`x-envoy-internal`,
 * `x-envoy-external-address`), stripping `x-envoy-*` from external requests at the edge, `x-request-id`,
 * path normalization and host port stripping.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers
 */
import type { ConnectionFacts, RequestHead } from './filter-stream.ts';
import type { HcmConfig } from './hcm-config.ts';
import { firstValue, isInternalAddress, plainAddress, xffAddress, type HeaderMap } from './headers.ts';
import { randomUuid } from './request-id.ts';
import { portStart } from './router/request.ts';

export interface RequestClass {
  /** From inside the mesh: a single internal address in front of us. */
  readonly internal: boolean;
  /** External and we are the edge (`use_remote_address`): untrusted x-envoy-* headers were removed. */
  readonly edge: boolean;
}

/** Removes every `x-envoy-*` header and the route configuration's internal-only headers. */
function stripInternalHeaders(headers: HeaderMap, internalOnly: readonly string[]): void {
  for (const name in headers) {
    if (name.startsWith('x-envoy-') && headers[name] !== undefined) headers[name] = undefined;
  }
  for (const name of internalOnly) if (headers[name] !== undefined) headers[name] = undefined;
}

export function mutateRequestHeaders(c: HcmConfig, req: RequestHead, conn: ConnectionFacts, internalOnly: readonly string[]): RequestClass {
  const h = req.headers;
  const xff = typeof h['x-forwarded-for'] === 'string' ? h['x-forwarded-for'] : Array.isArray(h['x-forwarded-for']) ? h['x-forwarded-for'].join(',') : undefined;
  let remote: string | undefined;
  let single: boolean;
  if (c.useRemoteAddress) {
    single = xff === undefined;
    remote = c.xffNumTrustedHops > 0 ? xffAddress(xff, c.xffNumTrustedHops - 1).address : plainAddress(conn.remoteAddress);
    if (!c.skipXffAppend) {
      const addr = plainAddress(conn.remoteAddress);
      h['x-forwarded-for'] = xff === undefined ? addr : `${xff},${addr}`;
    }
    if (c.xffNumTrustedHops === 0 || h['x-forwarded-proto'] === undefined) h['x-forwarded-proto'] = conn.tls ? 'https' : 'http';
  } else {
    const last = xffAddress(xff, c.xffNumTrustedHops);
    remote = last.address;
    single = last.single;
  }
  if (h['x-forwarded-proto'] === undefined) h['x-forwarded-proto'] = conn.tls ? 'https' : 'http';
  const internal = single && remote !== undefined && isInternalAddress(remote);
  const edge = !internal && c.useRemoteAddress;
  if (edge) stripInternalHeaders(h, internalOnly);
  if (internal) h['x-envoy-internal'] = 'true';
  else {
    if (h['x-envoy-internal'] !== undefined) h['x-envoy-internal'] = undefined;
    if (edge && remote !== undefined) h['x-envoy-external-address'] = remote;
  }
  if (c.generateRequestId && (h['x-request-id'] === undefined || (edge && !c.preserveExternalRequestId))) h['x-request-id'] = randomUuid();
  if (c.via !== '') h['via'] = h['via'] === undefined ? `${req.protocol === 'HTTP/2' ? '2' : req.protocol.slice(5)} ${c.via}` : `${String(h['via'])}, ${c.via}`;
  if (c.stripPort !== 'none') req.authority = stripPort(req.authority, c.stripPort === 'any' ? undefined : conn.localPort);
  return { internal, edge };
}

/** The authority without its port (`any`), or without it only when it is the listener's port. */
export function stripPort(authority: string, onlyPort: number | undefined): string {
  const at = portStart(authority);
  if (at < 0) return authority;
  if (onlyPort !== undefined && authority.slice(at + 1) !== String(onlyPort)) return authority;
  return authority.slice(0, at);
}

/**
 * RFC 3986 §5.2.4 remove_dot_segments on the path part (the query is kept as is), and `merge_slashes`.
 * Returns undefined for a path that cannot be normalized (not starting with `/`).
 */
export function normalizePath(path: string, removeDots: boolean, mergeSlashes: boolean): string | undefined {
  if (path === '' || path.charCodeAt(0) !== 0x2f) return undefined;
  let end = path.indexOf('?');
  if (end < 0) end = path.length;
  let p = path.slice(0, end);
  const query = path.slice(end);
  if (mergeSlashes && p.includes('//')) p = p.replace(/\/{2,}/g, '/');
  if (removeDots && (p.includes('/.') || p.includes('%2e') || p.includes('%2E'))) p = removeDotSegments(p);
  return p + query;
}

function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const s = seg.length <= 6 ? seg.replace(/%2e/gi, '.') : seg;
    if (s === '.') {
      if (i === segments.length - 1) out.push('');
    } else if (s === '..') {
      out.pop();
      if (i === segments.length - 1) out.push('');
    } else {
      out.push(seg);
    }
  }
  return `/${out.join('/')}`;
}

/** The request id (generated by mutateRequestHeaders when enabled), or ''. */
export function requestId(headers: HeaderMap): string {
  return firstValue(headers, 'x-request-id') ?? '';
}
