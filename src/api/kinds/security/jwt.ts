/**
 * JWTRule of RequestAuthentication: which issuer's tokens to accept, where to find them in a request,
 * how to get the issuer's keys, and what to forward upstream once a token is verified.
 * https://istio.io/latest/docs/reference/config/security/jwt/
 */
import * as z from 'zod';
import { atMostOne, check, obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { bool, duration, headerNameProblem, nonEmpty, str } from '../../schema/primitives.ts';
import { showValue } from '../../errors.ts';

/** Istio parses `jwksUri` as a URL and only fetches keys over http or https. */
export function jwksUriProblem(uri: string): string | undefined {
  if (uri === '') return 'must not be empty';
  if (uri.length > 2048) return `must be at most 2048 characters (got ${uri.length})`;
  let scheme: string;
  try {
    scheme = new URL(uri).protocol;
  } catch {
    return `must be an http:// or https:// URL (got ${showValue(uri)})`;
  }
  return scheme === 'http:' || scheme === 'https:' ? undefined : `must use the http or https scheme (got ${showValue(uri)})`;
}

function isKey(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as Record<string, unknown>)['kty'] === 'string';
}

/** Inline keys must be a JSON Web Key Set (`{"keys": [...]}`) or a single JSON Web Key, each with its `kty`. */
export function jwksProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return `is not a valid JSON Web Key Set: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a valid JSON Web Key Set: expected a JSON object';
  const keys = (value as Record<string, unknown>)['keys'];
  if (keys === undefined) return isKey(value) ? undefined : 'is not a valid JSON Web Key Set: expected "keys" or a single key with "kty"';
  if (!Array.isArray(keys)) return 'is not a valid JSON Web Key Set: "keys" must be a list';
  const bad = keys.findIndex((k) => !isKey(k));
  return bad < 0 ? undefined : `is not a valid JSON Web Key Set: keys[${bad}] has no "kty"`;
}

export const JWT_PRESENCE = ['OPTIONAL', 'REQUIRED'] as const;

export const JWTHeader = obj({
  name: nonEmpty(),
  prefix: str().optional(),
});
export type JWTHeader = z.output<typeof JWTHeader>;

/** Claims are copied into headers Istio adds itself, so their names must be plain tokens. */
export const ClaimToHeader = obj({
  header: check(str(), headerNameProblem),
  claim: nonEmpty(),
});
export type ClaimToHeader = z.output<typeof ClaimToHeader>;

function jwtRuleRules(r: JWTRule, report: (i: RuleIssue) => void): void {
  // Istio accepts a rule without issuer when jwksUri is set (the keys then identify the issuer).
  if (r.issuer === undefined && (r.jwksUri ?? r.jwks_uri) === undefined) {
    report({ path: ['issuer'], message: 'issuer is required (it may only be omitted when jwksUri is set)' });
  }
  atMostOne(r, ['jwksUri', 'jwks_uri', 'jwks'], report);
}

export const JWTRule = rules(
  obj({
    issuer: nonEmpty().optional(),
    audiences: z.array(nonEmpty()).optional(),
    jwksUri: check(str(), jwksUriProblem).optional(),
    /** The proto field name, still accepted by the CRD as an alias of `jwksUri`. */
    jwks_uri: check(str(), jwksUriProblem).optional(),
    jwks: check(str(), jwksProblem).optional(),
    fromHeaders: z.array(JWTHeader).optional(),
    fromParams: z.array(nonEmpty()).optional(),
    fromCookies: z.array(nonEmpty()).optional(),
    outputPayloadToHeader: str().optional(),
    forwardOriginalToken: bool().optional(),
    outputClaimToHeaders: z.array(ClaimToHeader).optional(),
    timeout: duration({ min: '1ms' }).optional(),
    spaceDelimitedClaims: z.array(nonEmpty()).max(64).optional(),
    /**
     * REQUIRED rejects requests without this token (401) even when another rule's token is valid;
     * OPTIONAL (the default) only rejects invalid tokens. Newer than the stored CRD (istio/api#3737),
     * but Istio's own validation test data already exercises it.
     */
    presence: oneOf(JWT_PRESENCE).optional(),
  }),
  (r, report) => jwtRuleRules(r, report),
);
export type JWTRule = z.output<typeof JWTRule>;
