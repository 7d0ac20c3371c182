/**
 * An Istio `HTTPMatchRequest` → Envoy `RouteMatch`, with Istio's exact semantics (`TranslateRouteMatch`
 * in istio/istio pilot/pkg/networking/core/route/route.go): URI exact/prefix/regex as the path
 * specifier, `ignoreUriCase` as `case_sensitive`, scheme/method/authority as `:scheme`/`:method`/
 * `:authority` header matchers, `withoutHeaders` inverted (treating a missing header as empty), `{}` and
 * `regex: "*"` as presence, query parameters, and JWT claims (`@request.auth.claims.…`) as dynamic
 * metadata matchers on the JWT filter's payload.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routematch
 */
import type { HTTPMatchRequest, StringMatch } from '../../../api/index.ts';
import { isPresenceMatch, stringMatcher } from './envoy-values.ts';

export type EnvoyRouteMatch = Record<string, unknown>;

/** The match of a route without conditions: every path. */
export function catchAllMatch(): EnvoyRouteMatch {
  return { prefix: '/' };
}

export function translateRouteMatch(m: HTTPMatchRequest | undefined): EnvoyRouteMatch {
  if (m === undefined) return catchAllMatch();
  const out: EnvoyRouteMatch = { ...pathSpecifier(m.uri), caseSensitive: { value: !m.ignoreUriCase } };
  const headers: Record<string, unknown>[] = [];
  const metadata: Record<string, unknown>[] = [];
  for (const [name, sm] of Object.entries(m.headers ?? {})) {
    const claims = routingClaims(name);
    if (claims !== undefined) metadata.push(claimMatcher(claims, sm, false));
    else headers.push(headerMatcher(name, sm));
  }
  for (const [name, sm] of Object.entries(m.withoutHeaders ?? {})) {
    const claims = routingClaims(name);
    if (claims !== undefined) metadata.push(claimMatcher(claims, sm, true));
    else headers.push(invertedHeaderMatcher(name, sm));
  }
  // Istio sorts the header matchers by name so the output does not depend on map order.
  headers.sort((a, b) => compare(a['name'] as string, b['name'] as string));
  if (m.method !== undefined) headers.push(headerMatcher(':method', m.method));
  if (m.authority !== undefined) headers.push(headerMatcher(':authority', m.authority));
  if (m.scheme !== undefined) headers.push(headerMatcher(':scheme', m.scheme));
  if (headers.length > 0) out['headers'] = headers;
  const query = Object.keys(m.queryParams ?? {}).sort().map((name) => queryMatcher(name, m.queryParams![name]!));
  if (query.length > 0) out['queryParameters'] = query;
  if (metadata.length > 0) out['dynamicMetadata'] = metadata;
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pathSpecifier(uri: StringMatch | undefined): EnvoyRouteMatch {
  if (uri?.exact !== undefined) return { path: uri.exact };
  if (uri?.prefix !== undefined) return { prefix: uri.prefix };
  if (uri?.regex !== undefined) return { safeRegex: { regex: uri.regex } };
  return { prefix: '/' };
}

export function headerMatcher(name: string, sm: StringMatch | undefined): Record<string, unknown> {
  if (isPresenceMatch(sm)) return { name, presentMatch: true };
  const matcher = stringMatcher(sm!);
  return matcher === undefined ? { name } : { name, stringMatch: matcher };
}

/**
 * `withoutHeaders`: the request must not match. Envoy fails an inverted value matcher on a missing
 * header unless it is told to treat it as empty; a presence matcher cannot take that flag (Envoy
 * rejects the combination), and inverting it already means "absent".
 */
function invertedHeaderMatcher(name: string, sm: StringMatch | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...headerMatcher(name, sm), invertMatch: true };
  if (!isPresenceMatch(sm)) out['treatMissingHeaderAsEmpty'] = true;
  return out;
}

function queryMatcher(name: string, sm: StringMatch): Record<string, unknown> {
  if (isPresenceMatch(sm)) return { name, presentMatch: true };
  const matcher = stringMatcher(sm);
  return matcher === undefined ? { name } : { name, stringMatch: matcher };
}

const CLAIM_PREFIX = '@request.auth.claims';

/** Claim path of a `@request.auth.claims.a.b` / `@request.auth.claims[a][b]` header, as Istio's ToRoutingClaim. */
export function routingClaims(header: string): string[] | undefined {
  if (!header.toLowerCase().startsWith(CLAIM_PREFIX)) return undefined;
  const rest = header.slice(CLAIM_PREFIX.length);
  if (rest.startsWith('.') && rest.length > 1) return rest.slice(1).split('.');
  if (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2) return rest.slice(1, -1).split('][');
  return undefined;
}

// Envoy's JWT filter stores the verified payload under this key of its dynamic metadata.
const JWT_FILTER = 'envoy.filters.http.jwt_authn';
const JWT_PAYLOAD = 'payload';

/**
 * A claim matches when it equals the value or, for list claims, when one element does (Istio's
 * MetadataMatcherForJWTClaims with extended JWT: an or of a list match and a string match).
 */
function claimMatcher(claims: readonly string[], sm: StringMatch, invert: boolean): Record<string, unknown> {
  const matcher = stringMatcher(sm);
  const value = matcher === undefined ? { presentMatch: true } : { stringMatch: matcher };
  const out: Record<string, unknown> = {
    filter: JWT_FILTER,
    path: [JWT_PAYLOAD, ...claims].map((key) => ({ key })),
    value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: value } }, value] } },
  };
  if (invert) out['invert'] = true;
  return out;
}

/**
 * Istio's IsCatchAllRoute: a route that matches every request (prefix `/` or regex `.*`, no header,
 * query or metadata conditions). Routes after it can never match, so translation stops there.
 */
export function isCatchAll(match: EnvoyRouteMatch): boolean {
  const pathAll = match['prefix'] === '/' || match['pathSeparatedPrefix'] === '/'
    || (match['safeRegex'] as { regex?: string } | undefined)?.regex === '.*';
  return pathAll && match['headers'] === undefined && match['queryParameters'] === undefined && match['dynamicMetadata'] === undefined;
}
