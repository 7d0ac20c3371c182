/**
 * `HTTPMatchRequest`: the conditions (URI, scheme, method, authority, headers, query parameters, port,
 * source workload, gateway) under which an HTTP route applies.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest
 */
import * as z from 'zod';
import { check, obj, rules, type RuleIssue } from '../../schema/object.ts';
import { bool, str, uint32, selectorLabels } from '../../schema/primitives.ts';
import { showValue } from '../../errors.ts';
import { StringMatch, stringMatchIssues } from './string-match.ts';
import { gatewaysRules, isJwtClaimRoute, namespaceName } from './route-common.ts';

const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
// RFC 7230 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;

/**
 * A header name in a match: an RFC 7230 token, an HTTP/2 pseudo-header, or a JWT claim reference
 * (`@request.auth.claims.sub`). Returns the problem and whether it is only a warning.
 */
export function matchHeaderNameIssue(name: string): RuleIssue | undefined {
  if (name === '') return { message: 'header name must not be empty' };
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return undefined;
  if (!TOKEN.test(name)) return { message: `is not a valid header name (got ${showValue(name)})` };
  if (name !== name.toLowerCase()) {
    // Envoy compares header names case-insensitively, so Istio accepts this; its API requires lowercase.
    return { severity: 'warning', message: `header names in matches should be lowercase (got ${showValue(name)}; use ${showValue(name.toLowerCase())})` };
  }
  return undefined;
}

const stringMatchMap = () => z.record(z.string(), StringMatch);

/** A match port: 0 is the protobuf default and means "any port", so only values above 65535 are wrong. */
export const matchPort = () => check(uint32(), (p) => (p > 65535 ? `must be a port between 1 and 65535 (got ${p})` : undefined));

export const HTTPMatchRequest = rules(
  obj({
    name: str().optional(),
    uri: StringMatch.optional(),
    scheme: StringMatch.optional(),
    method: StringMatch.optional(),
    authority: StringMatch.optional(),
    headers: stringMatchMap().optional(),
    port: matchPort().optional(),
    sourceLabels: selectorLabels().optional(),
    gateways: z.array(str()).optional(),
    queryParams: stringMatchMap().optional(),
    ignoreUriCase: bool().optional(),
    withoutHeaders: stringMatchMap().optional(),
    sourceNamespace: namespaceName().optional(),
    statPrefix: str().optional(),
  }),
  (m, report) => httpMatchRules(m, report),
);
export type HTTPMatchRequest = z.output<typeof HTTPMatchRequest>;

function reportStringMatch(sm: StringMatch | undefined, path: readonly (string | number)[], allowEmptyPrefix: boolean, report: (i: RuleIssue) => void): void {
  if (sm === undefined) return;
  for (const issue of stringMatchIssues(sm, allowEmptyPrefix)) report({ path: [...path, ...issue.path], message: issue.message });
}

function httpMatchRules(m: HTTPMatchRequest, report: (i: RuleIssue) => void): void {
  // Envoy accepts an empty URI prefix (it matches every path); the other matchers reject one.
  reportStringMatch(m.uri, ['uri'], true, report);
  reportStringMatch(m.scheme, ['scheme'], false, report);
  reportStringMatch(m.method, ['method'], false, report);
  reportStringMatch(m.authority, ['authority'], false, report);
  for (const field of ['headers', 'withoutHeaders'] as const) {
    for (const [name, sm] of Object.entries(m[field] ?? {})) {
      const issue = matchHeaderNameIssue(name);
      if (issue !== undefined) report({ ...issue, path: [field, name] });
      // In withoutHeaders, `regex: "*"` is Istio's spelling of "header present", not a regex.
      if (field === 'withoutHeaders' && sm.regex === '*') continue;
      reportStringMatch(sm, [field, name], false, report);
    }
  }
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) reportStringMatch(sm, ['queryParams', name], false, report);
  gatewaysRules(m.gateways, ['gateways'], report);
}
