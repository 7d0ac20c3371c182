/**
 * Envoy's request matchers, compiled once per config into small closures: `StringMatcher` (exact,
 * prefix, suffix, contains, RE2 `safe_regex` on the whole value; `ignore_case` folds ASCII only, as
 * absl does, and never applies to regexes), `HeaderMatcher` (every specifier, the legacy ones included,
 * `invert_match`, `treat_missing_header_as_empty`) and `QueryParameterMatcher`.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-headermatcher
 */
import { compileRegexMatcher, fullMatch } from './regex.ts';
import { bool, field, has, headerName, num, obj, Problems, str, type Proto } from './proto.ts';

export type StringTest = (value: string) => boolean;

const NEVER: StringTest = () => false;

function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

function foldEq(a: number, b: number): boolean {
  if (a === b) return true;
  const la = a >= 65 && a <= 90 ? a + 32 : a;
  const lb = b >= 65 && b <= 90 ? b + 32 : b;
  return la === lb;
}

/** Whether `s` has `part` at `offset`, ASCII letters compared case-insensitively (absl::StartsWithIgnoreCase). */
export function regionEqualsIgnoreCase(s: string, offset: number, part: string): boolean {
  if (offset < 0 || offset + part.length > s.length) return false;
  for (let i = 0; i < part.length; i++) {
    if (!foldEq(s.charCodeAt(offset + i), part.charCodeAt(i))) return false;
  }
  return true;
}

/** Compiles an `envoy.type.matcher.v3.StringMatcher` at `path`. */
export function compileStringMatcher(v: unknown, path: string, problems: Problems): StringTest {
  const m = obj(v);
  if (m === undefined) {
    problems.add(path, 'required');
    return NEVER;
  }
  const ignoreCase = bool(m['ignoreCase']);
  if (has(m, 'exact')) {
    const want = str(m['exact']) ?? '';
    return ignoreCase ? (s) => s.length === want.length && regionEqualsIgnoreCase(s, 0, want) : (s) => s === want;
  }
  for (const kind of ['prefix', 'suffix', 'contains'] as const) {
    if (!has(m, kind)) continue;
    const want = str(m[kind]) ?? '';
    if (want === '') problems.add(field(path, kind), 'must not be empty');
    return affixTest(kind, want, ignoreCase);
  }
  if (has(m, 'safeRegex')) {
    const re = compileRegexMatcher(m['safeRegex'], field(path, 'safeRegex'), problems);
    return re === undefined ? NEVER : (s) => fullMatch(re, s);
  }
  if (has(m, 'custom')) problems.add(field(path, 'custom'), 'custom string matcher extensions are not supported');
  else problems.add(path, 'one of exact, prefix, suffix, contains, safeRegex is required');
  return NEVER;
}

function affixTest(kind: 'prefix' | 'suffix' | 'contains', want: string, ignoreCase: boolean): StringTest {
  if (kind === 'prefix') return ignoreCase ? (s) => regionEqualsIgnoreCase(s, 0, want) : (s) => s.startsWith(want);
  if (kind === 'suffix') return ignoreCase ? (s) => regionEqualsIgnoreCase(s, s.length - want.length, want) : (s) => s.endsWith(want);
  const lower = asciiLower(want);
  return ignoreCase ? (s) => asciiLower(s).includes(lower) : (s) => s.includes(want);
}

/** Where a header matcher reads its value: a regular header or one of the request's pseudo-headers. */
export type HeaderSource = 'header' | ':method' | ':authority' | ':scheme' | ':path';

export interface HeaderMatcher {
  /** Lower-cased header name. */
  readonly name: string;
  readonly source: HeaderSource;
  readonly invert: boolean;
  readonly missingAsEmpty: boolean;
  /** For a presence matcher (`present_match` or no specifier): the presence it asks for. */
  readonly present: boolean | undefined;
  /** For a value matcher: the test of a present value. */
  readonly test: StringTest | undefined;
}

const PSEUDO: ReadonlySet<string> = new Set([':method', ':authority', ':scheme', ':path']);

/** Compiles a `config.route.v3.HeaderMatcher` at `path`. */
export function compileHeaderMatcher(v: unknown, path: string, problems: Problems): HeaderMatcher {
  const h = obj(v) ?? {};
  const name = headerName(h['name'], field(path, 'name'), problems);
  const source: HeaderSource = PSEUDO.has(name) ? (name as HeaderSource) : 'header';
  const base = { name, source, invert: bool(h['invertMatch']), missingAsEmpty: bool(h['treatMissingHeaderAsEmpty']) };
  if (has(h, 'presentMatch')) return { ...base, present: bool(h['presentMatch']), test: undefined };
  const test = specifierTest(h, path, problems);
  // No specifier at all: Envoy checks presence.
  return test === undefined ? { ...base, present: true, test: undefined } : { ...base, present: undefined, test };
}

function specifierTest(h: Proto, path: string, problems: Problems): StringTest | undefined {
  if (has(h, 'stringMatch')) return compileStringMatcher(h['stringMatch'], field(path, 'stringMatch'), problems);
  if (has(h, 'exactMatch')) {
    // The legacy exact_match "" matches any present value (Envoy's HeaderDataExactMatch).
    const want = str(h['exactMatch']) ?? '';
    return want === '' ? () => true : (s) => s === want;
  }
  if (has(h, 'safeRegexMatch')) {
    const re = compileRegexMatcher(h['safeRegexMatch'], field(path, 'safeRegexMatch'), problems);
    return re === undefined ? NEVER : (s) => fullMatch(re, s);
  }
  if (has(h, 'rangeMatch')) return rangeTest(obj(h['rangeMatch']) ?? {}, field(path, 'rangeMatch'), problems);
  for (const [key, kind] of [['prefixMatch', 'prefix'], ['suffixMatch', 'suffix'], ['containsMatch', 'contains']] as const) {
    if (!has(h, key)) continue;
    const want = str(h[key]) ?? '';
    if (want === '') problems.add(field(path, key), 'must not be empty');
    return affixTest(kind, want, false);
  }
  return undefined;
}

// absl::SimpleAtoi: optional surrounding ASCII whitespace and sign, decimal digits, int64 range.
const INTEGER = /^[ \t\n\v\f\r]*[+-]?\d+[ \t\n\v\f\r]*$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function rangeTest(range: Proto, path: string, problems: Problems): StringTest {
  const start = int64(range['start']);
  const end = int64(range['end']);
  if (end < start) problems.add(path, `end (${end}) is before start (${start})`);
  const [lo, hi] = [Number(start), Number(end)];
  return (s) => {
    if (!INTEGER.test(s)) return false;
    const n = Number(s);
    if (Number.isSafeInteger(n) && Number.isSafeInteger(lo) && Number.isSafeInteger(hi)) return n >= lo && n < hi;
    const big = BigInt(s.trim());
    return big >= INT64_MIN && big <= INT64_MAX && big >= start && big < end;
  };
}

/** An int64 field, exactly (decoded 64-bit integers may be strings beyond 2^53). */
function int64(v: unknown): bigint {
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return BigInt(Math.trunc(num(v) ?? 0));
}

/** Envoy's `HeaderUtility::matchHeaders` for one matcher; `value` is undefined when the header is absent. */
export function headerMatches(m: HeaderMatcher, value: string | undefined): boolean {
  if (value === undefined) {
    if (!m.missingAsEmpty) return m.invert ? m.present === true : m.present === false;
    value = '';
  }
  const match = m.test === undefined ? m.present === true : m.test(value);
  return match !== m.invert;
}

export interface QueryParameterMatcher {
  readonly name: string;
  /** Undefined: presence is enough. */
  readonly test: StringTest | undefined;
}

/** Compiles a `config.route.v3.QueryParameterMatcher` at `path`. */
export function compileQueryParameterMatcher(v: unknown, path: string, problems: Problems): QueryParameterMatcher {
  const q = obj(v) ?? {};
  const name = str(q['name']) ?? '';
  if (name === '') problems.add(field(path, 'name'), 'required');
  else if (Buffer.byteLength(name) > 1024) problems.add(field(path, 'name'), 'longer than 1024 bytes');
  if (has(q, 'stringMatch')) return { name, test: compileStringMatcher(q['stringMatch'], field(path, 'stringMatch'), problems) };
  return { name, test: undefined };
}

/** Envoy's QueryParameterMatcher: the parameter must be present; then presence or the string matcher decides. */
export function queryParameterMatches(m: QueryParameterMatcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  return m.test === undefined || m.test(value);
}
