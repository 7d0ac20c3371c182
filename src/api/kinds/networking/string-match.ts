/**
 * `StringMatch` (exact | prefix | regex), the matcher VirtualService uses for URIs, headers, query
 * parameters and CORS origins, with Istio's rules for each place it appears.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#StringMatch
 */
import * as z from 'zod';
import { atMostOne, obj, rules } from '../../schema/object.ts';
import { str } from '../../schema/primitives.ts';
import { re2Problem } from '../../schema/regex.ts';
import { showValue } from '../../errors.ts';

/** An empty StringMatch is allowed: for headers it means "the header is present". */
export const StringMatch = rules(
  obj({ exact: str().optional(), prefix: str().optional(), regex: str().optional() }),
  (m, report) => atMostOne(m, ['exact', 'prefix', 'regex'], report),
);
export type StringMatch = z.output<typeof StringMatch>;

/** Istio passes regexes to Envoy with a program-size limit it approximates by length. */
export const MAX_REGEX_LENGTH = 1024;

/** Problem with an RE2 pattern used by Envoy, or undefined. */
export function envoyRegexProblem(re: string): string | undefined {
  if (re === '') return 'regex must not be empty';
  if (re.length > MAX_REGEX_LENGTH) return `regex is longer than ${MAX_REGEX_LENGTH} characters (got ${re.length})`;
  return re2Problem(re);
}

export interface StringMatchIssue {
  readonly path: readonly string[];
  readonly message: string;
}

/**
 * Problems with one StringMatch. `allowEmptyPrefix` is for URIs, where Envoy accepts `prefix: ""`
 * (match everything); other matchers reject an empty prefix.
 */
export function stringMatchIssues(m: StringMatch, allowEmptyPrefix: boolean): StringMatchIssue[] {
  const out: StringMatchIssue[] = [];
  if (m.prefix === '' && !allowEmptyPrefix) out.push({ path: ['prefix'], message: 'prefix must not be empty (omit the matcher to match any value)' });
  if (m.regex !== undefined) {
    const p = envoyRegexProblem(m.regex);
    if (p !== undefined) out.push({ path: ['regex'], message: p });
  }
  return out;
}

/** `exact: "x"` / `prefix: "x"` / `regex: "x"`, for messages. */
export function describeStringMatch(m: StringMatch): string {
  if (m.exact !== undefined) return `exact ${showValue(m.exact)}`;
  if (m.prefix !== undefined) return `prefix ${showValue(m.prefix)}`;
  if (m.regex !== undefined) return `regex ${showValue(m.regex)}`;
  return 'presence';
}

/**
 * Whether every value matched by `b` is also matched by `a` (used to find shadowed routes). Only
 * decidable cases answer true: equal matchers, a prefix covering an exact or longer prefix, and the
 * empty (presence) matcher covering anything.
 */
export function stringMatchCovers(a: StringMatch, b: StringMatch | undefined): boolean {
  if (b === undefined) return false;
  if (a.exact === undefined && a.prefix === undefined && a.regex === undefined) return true;
  if (a.exact !== undefined) return b.exact === a.exact;
  if (a.regex !== undefined) return b.regex === a.regex;
  const value = b.exact ?? b.prefix;
  return value !== undefined && value.startsWith(a.prefix!);
}
