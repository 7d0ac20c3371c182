/**
 * Envoy's route selection inside a virtual host: the first route whose `RouteMatch` accepts the
 * request. Paths are matched without their query string; `prefix`, `path` and `path_separated_prefix`
 * honour `case_sensitive` (default true), `safe_regex` must match the whole path; CONNECT requests match
 * only `connect_matcher` routes; headers, query parameters and the gRPC content type must all match.
 * Runtime fractions count as matching; dynamic metadata (set by filters such as JWT) is absent here.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routematch
 */
import { headerMatches, queryParamMatches, regexFullMatch, type RequestHeaders } from './matchers.ts';
import { bool, list, obj, str } from './plain.ts';
import type { Plain } from './types.ts';

/** A request as route matching sees it. */
export interface RouteRequest {
  readonly method: string;
  /** `:path` as sent (with query). */
  readonly path: string;
  readonly headers: RequestHeaders;
  readonly query: ReadonlyMap<string, string>;
}

/** The path without query string and fragment. */
export function pathOnly(path: string): string {
  const cut = path.search(/[?#]/);
  return cut < 0 ? path : path.slice(0, cut);
}

function pathMatches(match: Plain, req: RouteRequest): boolean {
  const caseSensitive = bool(match['caseSensitive']) ?? true;
  const fold = (s: string) => (caseSensitive ? s : s.toLowerCase());
  const path = fold(pathOnly(req.path));
  const prefix = str(match['prefix']);
  if (prefix !== undefined) return path.startsWith(fold(prefix));
  const exact = str(match['path']);
  if (exact !== undefined) return path === fold(exact);
  const regex = str(obj(match['safeRegex'])?.['regex']);
  if (regex !== undefined) return regexFullMatch(regex, pathOnly(req.path));
  const separated = str(match['pathSeparatedPrefix']);
  if (separated !== undefined) {
    const p = fold(separated);
    return path === p || path.startsWith(`${p}/`);
  }
  // No path specifier (or one the simulator does not know, such as path_match_policy): no match.
  return false;
}

function isGrpc(req: RouteRequest): boolean {
  return (req.headers.get('content-type') ?? '').startsWith('application/grpc');
}

/**
 * Dynamic metadata is written by HTTP filters at request time (JWT claims…); a simulated request has
 * none, so a metadata matcher fails unless inverted.
 */
function metadataMatches(match: Plain): boolean {
  return list(match['dynamicMetadata']).every((m) => bool(m['invert']) === true);
}

export function routeMatches(match: Plain | undefined, req: RouteRequest): boolean {
  if (match === undefined) return false;
  const connect = req.method === 'CONNECT';
  if (match['connectMatcher'] !== undefined) {
    if (!connect) return false;
  } else if (connect || !pathMatches(match, req)) {
    return false;
  }
  if (match['grpc'] !== undefined && !isGrpc(req)) return false;
  if (!list(match['headers']).every((h) => headerMatches(h, req.headers))) return false;
  if (!list(match['queryParameters']).every((q) => queryParamMatches(q, req.query))) return false;
  return metadataMatches(match);
}

/** The index of the first route of `virtualHost` that accepts `req`, or -1. */
export function firstMatchingRoute(virtualHost: Plain, req: RouteRequest): number {
  return list(virtualHost['routes']).findIndex((r) => routeMatches(obj(r['match']), req));
}
