/**
 * Path and host rewrites of a route, computed per request only when configured. `prefix_rewrite`
 * replaces the part of the path the route matched — the configured prefix or path (by length, so a
 * case-insensitive match is replaced too), or the whole path proper for regex and CONNECT routes —
 * and keeps the rest; `regex_rewrite` substitutes over the path proper and keeps the query, as
 * Envoy's `currentUrlPathAfterRewriteWithMatchedPath`. Host rewrites: a literal, a request header, a
 * regex over the path; the route's own rewrite wins over a weighted cluster's literal, as in Envoy
 * (the cluster's is applied first and the route's then overwrites it).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-routeaction-prefix-rewrite
 */
import { replaceAll, type RegexRewrite } from './regex.ts';
import { pathEnd } from './request.ts';
import type { ClusterTarget, HostRewrite, PathMatch } from './types.ts';

/** The length of the path prefix a route's path specifier matched. */
function matchedLength(match: PathMatch, path: string): number {
  switch (match.kind) {
    case 'prefix':
    case 'path':
    case 'path_separated_prefix':
      return match.value.length;
    default:
      return pathEnd(path);
  }
}

/** The rewritten `:path`, or undefined when the route rewrites nothing. */
export function rewritePath(path: string, match: PathMatch, prefixRewrite: string | undefined, regexRewrite: RegexRewrite | undefined): string | undefined {
  if (prefixRewrite !== undefined) return prefixRewrite + path.slice(matchedLength(match, path));
  if (regexRewrite !== undefined) {
    const end = pathEnd(path);
    return replaceAll(regexRewrite, path.slice(0, end)) + path.slice(end);
  }
  return undefined;
}

/** The new authority, or undefined when unchanged (`auto_host_rewrite` is decided by the router once it has a host). */
export function rewriteHost(rewrite: HostRewrite | undefined, target: ClusterTarget, path: string | undefined, header: (name: string) => string | undefined): string | undefined {
  const own = routeHost(rewrite, path, header);
  return own !== undefined && own !== '' ? own : target.hostRewriteLiteral;
}

function routeHost(rewrite: HostRewrite | undefined, path: string | undefined, header: (name: string) => string | undefined): string | undefined {
  if (rewrite === undefined) return undefined;
  switch (rewrite.kind) {
    case 'literal':
      return rewrite.value;
    case 'header': {
      // Envoy uses the first value of the header only.
      const v = header(rewrite.name);
      if (v === undefined) return undefined;
      const comma = v.indexOf(',');
      return comma < 0 ? v : v.slice(0, comma);
    }
    case 'path_regex':
      return path === undefined ? undefined : replaceAll(rewrite.rewrite, path.slice(0, pathEnd(path)));
    case 'auto':
      return undefined;
  }
}
