/**
 * `config.route.v3.RouteMatch`: compiled once, evaluated per request. A route matches when its path
 * specifier and every other condition hold (Envoy's `RouteEntryImplBase::matchRoute` plus the
 * specifier's own `matches`):
 *  - `prefix`, `path`, `path_separated_prefix` and `safe_regex` see the path without query and fragment
 *    (a specifier containing `?` or `#` can therefore never match); `case_sensitive` (default true)
 *    folds ASCII for the first three; a regex must match the whole path; with
 *    `ignore_path_parameters_in_path_matching` the path is cut at its first `;`;
 *  - `connect_matcher` takes CONNECT requests only; requests without a `:path` (classic CONNECT) take
 *    nothing else;
 *  - `headers` (pseudo-headers `:method`, `:authority`, `:scheme`, `:path` included), `query_parameters`,
 *    `grpc` (content type `application/grpc`, `…+proto`, `…;…`), `runtime_fraction` (the request's random
 *    value against the default fraction), `tls_context`, `dynamic_metadata` must all hold.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routematch
 */
import { compileHeaderMatcher, compileQueryParameterMatcher, headerMatches, queryParameterMatches, regionEqualsIgnoreCase, type HeaderMatcher } from './matchers.ts';
import { compileMetadataMatcher, metadataMatches } from './metadata-matcher.ts';
import { compileRegexMatcher, fullMatch } from './regex.ts';
import { bool, field, fractionHits, has, list, obj, Problems, runtimeFraction, str, type Proto } from './proto.ts';
import { pathEnd, queryParameter } from './request.ts';
import type { PathMatch, RouteMatch, RouteRequest } from './types.ts';
import { isGrpcContentType } from '../../codec/grpc-content-type.ts';

export function compileRouteMatch(v: unknown, path: string, problems: Problems): RouteMatch {
  const m = obj(v);
  if (m === undefined) problems.add(path, 'required');
  const match = m ?? {};
  const at = (k: string) => field(path, k);
  let tlsContext: RouteMatch['tlsContext'];
  if (has(match, 'tlsContext')) {
    const t = obj(match['tlsContext']) ?? {};
    tlsContext = { presented: has(t, 'presented') ? bool(t['presented']) : undefined, validated: has(t, 'validated') ? bool(t['validated']) : undefined };
  }
  if (list(match['filterState']).length > 0) problems.add(at('filterState'), 'filter state matchers are not supported');
  return {
    path: compilePathMatch(match, path, problems),
    headers: list(match['headers']).map((h, i) => compileHeaderMatcher(h, field(at('headers'), i), problems)),
    queryParameters: list(match['queryParameters']).map((q, i) => compileQueryParameterMatcher(q, field(at('queryParameters'), i), problems)),
    grpc: has(match, 'grpc'),
    runtimeFraction: has(match, 'runtimeFraction') ? runtimeFraction(match['runtimeFraction'], at('runtimeFraction'), problems) : undefined,
    tlsContext,
    dynamicMetadata: list(match['dynamicMetadata']).map((d, i) => compileMetadataMatcher(d, field(at('dynamicMetadata'), i), problems)),
  };
}

function compilePathMatch(m: Proto, path: string, problems: Problems): PathMatch {
  const caseSensitive = bool(m['caseSensitive'], true);
  for (const kind of ['prefix', 'path'] as const) {
    if (!has(m, kind)) continue;
    const value = str(m[kind]) ?? '';
    // The path is matched without its query and fragment, so such a specifier never matches.
    return /[?#]/.test(value) ? { kind: 'never' } : { kind, value, caseSensitive };
  }
  if (has(m, 'pathSeparatedPrefix')) {
    const value = str(m['pathSeparatedPrefix']) ?? '';
    if (!/^[^?#]+[^?#/]$/.test(value)) problems.add(field(path, 'pathSeparatedPrefix'), `${JSON.stringify(value)} must be non-empty, without ? or #, and not end with /`);
    return { kind: 'path_separated_prefix', value, caseSensitive };
  }
  if (has(m, 'safeRegex')) {
    const regex = compileRegexMatcher(m['safeRegex'], field(path, 'safeRegex'), problems);
    return regex === undefined ? { kind: 'never' } : { kind: 'safe_regex', regex };
  }
  if (has(m, 'connectMatcher')) return { kind: 'connect' };
  if (has(m, 'pathMatchPolicy')) problems.add(field(path, 'pathMatchPolicy'), 'path match policy extensions are not supported');
  else problems.add(path, 'one of prefix, path, safeRegex, connectMatcher, pathSeparatedPrefix is required');
  return { kind: 'never' };
}

/** One request being matched; `random()` is drawn at most once and shared with the weighted pick. */
export interface MatchInput {
  readonly request: RouteRequest;
  /** The path path-specifiers see (`:path`, cut at `;` when path parameters are ignored). */
  readonly matchPath: string | undefined;
  random(): number;
}

function regionEquals(s: string, part: string, caseSensitive: boolean): boolean {
  return caseSensitive ? s.startsWith(part) : regionEqualsIgnoreCase(s, 0, part);
}

export function pathMatches(p: PathMatch, input: MatchInput): boolean {
  if (p.kind === 'connect') return input.request.method === 'CONNECT';
  const path = input.matchPath;
  if (path === undefined) return false;
  switch (p.kind) {
    case 'prefix':
      return regionEquals(path, p.value, p.caseSensitive);
    case 'path':
      return pathEnd(path) === p.value.length && regionEquals(path, p.value, p.caseSensitive);
    case 'path_separated_prefix': {
      const end = pathEnd(path);
      const n = p.value.length;
      return end >= n && regionEquals(path, p.value, p.caseSensitive) && (end === n || path.charCodeAt(n) === 47 /* / */);
    }
    case 'safe_regex': {
      const end = pathEnd(path);
      return fullMatch(p.regex, end === path.length ? path : path.slice(0, end));
    }
    case 'never':
      return false;
  }
}

function headerValue(m: HeaderMatcher, request: RouteRequest): string | undefined {
  switch (m.source) {
    case 'header':
      return request.headers.get(m.name);
    case ':method':
      return request.method;
    case ':authority':
      return request.authority;
    case ':scheme':
      return request.scheme;
    case ':path':
      return request.path;
  }
}

function isGrpc(request: RouteRequest): boolean {
  return isGrpcContentType(request.headers.get('content-type'));
}

export function routeMatches(m: RouteMatch, input: MatchInput): boolean {
  if (!pathMatches(m.path, input)) return false;
  const request = input.request;
  if (m.runtimeFraction !== undefined && !fractionHits(m.runtimeFraction, input.random())) return false;
  if (m.grpc && !isGrpc(request)) return false;
  for (const h of m.headers) if (!headerMatches(h, headerValue(h, request))) return false;
  for (const q of m.queryParameters) if (!queryParameterMatches(q, queryParameter(request.path ?? '', q.name))) return false;
  if (m.tlsContext !== undefined && !tlsMatches(m.tlsContext, request)) return false;
  for (const d of m.dynamicMetadata) if (!metadataMatches(d, request.metadata)) return false;
  return true;
}

function tlsMatches(t: NonNullable<RouteMatch['tlsContext']>, request: RouteRequest): boolean {
  if (t.presented !== undefined && t.presented !== (request.tls?.presented ?? false)) return false;
  return t.validated === undefined || t.validated === (request.tls?.validated ?? false);
}
