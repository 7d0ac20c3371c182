/**
 * Routes answered by the proxy itself: `redirect` (the `Location` Envoy's `Http::Utility::newUri`
 * computes) and `direct_response` (status and body, the body read once at compile time and capped by
 * `max_direct_response_body_size_bytes`, 4 KiB by default), plus the redirect of `require_tls`.
 *
 * Location = scheme + host + port + path, where
 *  - scheme: `scheme_redirect`, else https for `https_redirect`, else the request's;
 *  - port: `:port_redirect` when set;
 *  - host: `host_redirect`, else the request's authority, whose port is dropped when a port is given or
 *    when the scheme changes and the port was the old scheme's default (`:80` for http, `:443` for https);
 *  - path: `path_redirect` (its own query wins; else the request's query is kept), else the request
 *    path after the redirect's `prefix_rewrite` / `regex_rewrite`; made absolute; `strip_query` drops the
 *    query unless `path_redirect` brought one.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-redirectaction
 */
import { compileRegexRewrite } from './regex.ts';
import { bool, enumName, field, has, headerValue, num, obj, Problems, str, type Proto } from './proto.ts';
import { rewritePath } from './rewrite.ts';
import type { DirectResponse, PathMatch, Redirect, RouteRequest } from './types.ts';

const RESPONSE_CODES = ['MOVED_PERMANENTLY', 'FOUND', 'SEE_OTHER', 'TEMPORARY_REDIRECT', 'PERMANENT_REDIRECT'];
const STATUS = [301, 302, 303, 307, 308];

export function compileRedirect(r: Proto, path: string, problems: Problems): Redirect {
  const code = enumName(r, 'responseCode', RESPONSE_CODES, path, problems);
  const scheme = str(r['schemeRedirect']);
  if (scheme !== undefined && scheme !== '' && !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(scheme)) problems.add(field(path, 'schemeRedirect'), `invalid scheme ${JSON.stringify(scheme)}`);
  const port = num(r['portRedirect']) ?? 0;
  if (port < 0 || port > 65535) problems.add(field(path, 'portRedirect'), `invalid port ${port}`);
  const pathRedirect = str(r['pathRedirect']);
  const prefixRewrite = str(r['prefixRewrite']);
  if (pathRedirect !== undefined) headerValue(pathRedirect, field(path, 'pathRedirect'), problems);
  if (prefixRewrite !== undefined) headerValue(prefixRewrite, field(path, 'prefixRewrite'), problems);
  const host = str(r['hostRedirect']);
  if (host !== undefined) headerValue(host, field(path, 'hostRedirect'), problems);
  return {
    status: STATUS[RESPONSE_CODES.indexOf(code)]!,
    scheme: scheme === '' ? undefined : scheme,
    httpsRedirect: bool(r['httpsRedirect']),
    host: host === '' ? undefined : host,
    port: port > 0 ? port : undefined,
    pathRedirect: pathRedirect === '' ? undefined : pathRedirect,
    pathRedirectHasQuery: (pathRedirect ?? '').includes('?'),
    prefixRewrite: prefixRewrite === '' ? undefined : prefixRewrite,
    regexRewrite: has(r, 'regexRewrite') ? compileRegexRewrite(r['regexRewrite'], field(path, 'regexRewrite'), problems) : undefined,
    stripQuery: bool(r['stripQuery']),
  };
}

/** The redirect's `Location` for `request`, which matched a route with path specifier `match`. */
export function redirectLocation(r: Redirect, match: PathMatch, request: RouteRequest): string {
  const scheme = r.scheme ?? (r.httpsRedirect ? 'https' : request.scheme);
  const port = r.port !== undefined ? `:${r.port}` : '';
  const host = r.host ?? requestHost(request, scheme, port !== '');
  let path = redirectPath(r, match, request.path ?? '');
  if (!path.startsWith('/')) path = `/${path}`;
  if (r.stripQuery && !r.pathRedirectHasQuery) {
    const q = path.indexOf('?');
    if (q >= 0) path = path.slice(0, q);
  }
  return `${scheme}://${host}${port}${path}`;
}

function redirectPath(r: Redirect, match: PathMatch, current: string): string {
  if (r.pathRedirect !== undefined) {
    if (r.pathRedirectHasQuery) return r.pathRedirect;
    const q = current.indexOf('?');
    return q < 0 ? r.pathRedirect : r.pathRedirect + current.slice(q);
  }
  return rewritePath(current, match, r.prefixRewrite, r.regexRewrite) ?? current;
}

/** Envoy's `processRequestHost`: the authority, without a port that would be wrong after the redirect. */
function requestHost(request: RouteRequest, newScheme: string, newPort: boolean): string {
  const authority = request.authority ?? '';
  const colon = authority.startsWith('[') ? ipv6PortStart(authority) : authority.lastIndexOf(':');
  if (colon < 0) return authority;
  const oldPort = authority.slice(colon);
  let remove = newPort;
  if (newScheme !== request.scheme) {
    remove ||= (request.scheme.toLowerCase() === 'https' && oldPort === ':443') || (request.scheme.toLowerCase() === 'http' && oldPort === ':80');
  }
  return remove ? authority.slice(0, colon) : authority;
}

function ipv6PortStart(authority: string): number {
  const i = authority.lastIndexOf(']:');
  return i < 0 ? -1 : i + 1;
}

/** `require_tls`: Envoy's `createSslRedirectPath`, `https://` + authority + path, answered with 301. */
export function tlsRedirectLocation(request: RouteRequest): string {
  return `https://${request.authority ?? ''}${request.path ?? ''}`;
}

/** Compiles a `DirectResponseAction`; `maxBody` is the route configuration's body size limit. */
export function compileDirectResponse(d: Proto, maxBody: number, path: string, problems: Problems): DirectResponse {
  const status = num(d['status']) ?? 0;
  if (!(status >= 200 && status < 600)) problems.add(field(path, 'status'), `must be in [200, 600) (got ${status})`);
  const body = has(d, 'body') ? dataSource(obj(d['body']) ?? {}, field(path, 'body'), problems) : undefined;
  if (body !== undefined && body.length > maxBody) {
    problems.add(field(path, 'body'), `body is ${body.length} bytes; the maximum is ${maxBody} (max_direct_response_body_size_bytes)`);
  }
  return { status, body };
}

/** `core.v3.DataSource`: inline bytes (base64 when decoded as text), inline string or environment variable. */
function dataSource(s: Proto, path: string, problems: Problems): Buffer | undefined {
  const bytes = s['inlineBytes'];
  if (typeof bytes === 'string') return Buffer.from(bytes, 'base64');
  if (bytes instanceof Uint8Array) return Buffer.from(bytes);
  const inline = str(s['inlineString']);
  if (inline !== undefined) return Buffer.from(inline, 'utf8');
  const env = str(s['environmentVariable']);
  if (env !== undefined) {
    const value = process.env[env];
    if (value === undefined) problems.add(field(path, 'environmentVariable'), `environment variable ${JSON.stringify(env)} is not set`);
    return Buffer.from(value ?? '', 'utf8');
  }
  if (has(s, 'filename')) problems.add(field(path, 'filename'), 'bodies from files are not supported (use inline_string or inline_bytes)');
  else problems.add(path, 'one of inlineBytes, inlineString, environmentVariable is required');
  return undefined;
}
