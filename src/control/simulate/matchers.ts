/**
 * Envoy's request matchers, evaluated as Envoy does: `StringMatcher` (exact, prefix, suffix, contains,
 * RE2 `safe_regex` on the whole value, `ignore_case`), `HeaderMatcher` (missing headers, inversion,
 * `treat_missing_header_as_empty`, presence, ranges and the legacy specifiers) and
 * `QueryParameterMatcher` (first value, presence).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-headermatcher
 */
import { RE2JS } from 're2js';
import { bool, num, obj, str } from './plain.ts';
import type { Plain } from './types.ts';

const regexCache = new Map<string, RE2JS | null>();

/** Whether RE2 `pattern` matches all of `value`; an invalid pattern (Envoy would have rejected it) never matches. */
export function regexFullMatch(pattern: string, value: string): boolean {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch {
      re = null;
    }
    regexCache.set(pattern, re);
  }
  return re !== null && re.matches(value);
}

/** `envoy.type.matcher.v3.StringMatcher` against a value. */
export function stringMatches(m: Plain, value: string): boolean {
  const ignoreCase = bool(m['ignoreCase']) === true;
  const v = ignoreCase ? value.toLowerCase() : value;
  const want = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  const exact = str(m['exact']);
  if (exact !== undefined) return v === want(exact);
  const prefix = str(m['prefix']);
  if (prefix !== undefined) return v.startsWith(want(prefix));
  const suffix = str(m['suffix']);
  if (suffix !== undefined) return v.endsWith(want(suffix));
  const contains = str(m['contains']);
  if (contains !== undefined) return v.includes(want(contains));
  const regex = str(obj(m['safeRegex'])?.['regex']);
  if (regex !== undefined) return regexFullMatch(regex, value);
  return false;
}

/** The values a request has for a header: pseudo-headers and regular headers (case-insensitive names). */
export interface RequestHeaders {
  get(name: string): string | undefined;
}

function rangeMatches(range: Plain, value: string): boolean {
  if (!/^-?\d+$/.test(value)) return false;
  const n = Number(value);
  return n >= (num(range['start']) ?? 0) && n < (num(range['end']) ?? 0);
}

/** The specifier's verdict on a present value (Envoy's HeaderDataBaseImpl subclasses). */
function specifierMatches(h: Plain, value: string): boolean {
  const stringMatch = obj(h['stringMatch']);
  if (stringMatch !== undefined) return stringMatches(stringMatch, value);
  const exact = str(h['exactMatch']);
  if (exact !== undefined) return value === exact;
  const regex = str(obj(h['safeRegexMatch'])?.['regex']);
  if (regex !== undefined) return regexFullMatch(regex, value);
  const range = obj(h['rangeMatch']);
  if (range !== undefined) return rangeMatches(range, value);
  const prefix = str(h['prefixMatch']);
  if (prefix !== undefined) return value.startsWith(prefix);
  const suffix = str(h['suffixMatch']);
  if (suffix !== undefined) return value.endsWith(suffix);
  const contains = str(h['containsMatch']);
  if (contains !== undefined) return value.includes(contains);
  // `present_match`, or no specifier at all (Envoy then checks presence).
  return bool(h['presentMatch']) ?? true;
}

function isPresenceMatcher(h: Plain): boolean {
  const specifiers = ['stringMatch', 'exactMatch', 'safeRegexMatch', 'rangeMatch', 'prefixMatch', 'suffixMatch', 'containsMatch'];
  return !specifiers.some((k) => h[k] !== undefined);
}

/**
 * Envoy's HeaderUtility::matchHeaders for one matcher. A missing header (not treated as empty) only
 * satisfies a presence matcher asking for absence — or, inverted, one asking for presence.
 */
export function headerMatches(h: Plain, headers: RequestHeaders): boolean {
  const name = str(h['name']) ?? '';
  const invert = bool(h['invertMatch']) === true;
  let value = headers.get(name);
  if (value === undefined) {
    if (bool(h['treatMissingHeaderAsEmpty']) !== true) {
      const presence = isPresenceMatcher(h);
      const present = bool(h['presentMatch']) ?? true;
      return invert ? presence && present : presence && !present;
    }
    value = '';
  }
  return specifierMatches(h, value) !== invert;
}

/** Query parameters of a path, decoded; the first value of each name is what Envoy matches on. */
export function parseQuery(path: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = path.indexOf('?');
  if (q < 0) return out;
  const hash = path.indexOf('#', q);
  for (const part of path.slice(q + 1, hash < 0 ? undefined : hash).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (!out.has(name)) out.set(name, decode(eq < 0 ? '' : part.slice(eq + 1)));
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Envoy's QueryParameterMatcher: the parameter must be present; then presence or the string matcher decides. */
export function queryParamMatches(m: Plain, query: ReadonlyMap<string, string>): boolean {
  const value = query.get(str(m['name']) ?? '');
  if (value === undefined) return false;
  const sm = obj(m['stringMatch']);
  if (bool(m['presentMatch']) === true || sm === undefined) return true;
  return stringMatches(sm, value);
}
