/**
 * RE2 for route configuration (never JavaScript `RegExp`, whose syntax and backtracking differ from
 * what Envoy accepts): `RegexMatcher` compilation with the parse error as a problem, whole-value
 * matching, and `RegexMatchAndSubstitute` with RE2's `GlobalReplace` semantics — `\0`…`\9` refer to
 * groups, `\\` is a backslash, an empty match right after the previous match is skipped.
 * re2js (with its Unicode tables) loads on the first regex a config holds, not with the proxy.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/type/matcher/v3/regex.proto
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import { field, obj, Problems, str } from './proto.ts';

let re2: typeof RE2JS | undefined;
/** re2js, loaded on first use (also by the admin endpoints' `filter` and `name_regex`). */
export function engine(): typeof RE2JS {
  return (re2 ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS);
}

/** A compiled `envoy.type.matcher.v3.RegexMatcher`; `matches` tests the whole value, as Envoy does. */
export interface Regex {
  readonly source: string;
  readonly re: RE2JS;
}

/** Compiles `matcher.regex` (a RegexMatcher message at `path`), or reports why it cannot. */
export function compileRegexMatcher(matcher: unknown, path: string, problems: Problems): Regex | undefined {
  const m = obj(matcher);
  if (m === undefined) {
    problems.add(path, 'required');
    return undefined;
  }
  return compileRegex(m['regex'], field(path, 'regex'), problems);
}

export function compileRegex(source: unknown, path: string, problems: Problems): Regex | undefined {
  const s = str(source) ?? '';
  if (s === '') {
    problems.add(path, 'regex required');
    return undefined;
  }
  try {
    return { source: s, re: engine().compile(s) };
  } catch (err) {
    problems.add(path, `invalid RE2 regex ${JSON.stringify(s)}: ${(err as Error).message}`);
    return undefined;
  }
}

export function fullMatch(r: Regex, value: string): boolean {
  return r.re.matches(value);
}

/** A substitution split into literal text and group references, checked against the pattern's groups. */
type RewritePart = string | number;

export interface RegexRewrite {
  readonly regex: Regex;
  readonly parts: readonly RewritePart[];
}

/** Compiles a `RegexMatchAndSubstitute` (pattern + substitution). */
export function compileRegexRewrite(v: unknown, path: string, problems: Problems): RegexRewrite | undefined {
  const p = obj(v) ?? {};
  const regex = compileRegexMatcher(p['pattern'], field(path, 'pattern'), problems);
  const substitution = str(p['substitution']) ?? '';
  const parts = parseSubstitution(substitution, regex?.re.groupCount() ?? 9, field(path, 'substitution'), problems);
  return regex === undefined || parts === undefined ? undefined : { regex, parts };
}

/** RE2's `CheckRewriteString`: `\N` must name an existing group; a backslash before anything else is an error. */
function parseSubstitution(s: string, groups: number, path: string, problems: Problems): RewritePart[] | undefined {
  const parts: RewritePart[] = [];
  let literal = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      literal += c;
      continue;
    }
    const next = s[++i];
    if (next === '\\') {
      literal += '\\';
    } else if (next !== undefined && next >= '0' && next <= '9') {
      const n = next.charCodeAt(0) - 48;
      if (n > groups) {
        problems.add(path, `substitution ${JSON.stringify(s)} refers to group \\${n} but the pattern has ${groups}`);
        return undefined;
      }
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(n);
    } else {
      problems.add(path, `substitution ${JSON.stringify(s)}: invalid escape ${next === undefined ? 'at the end' : `\\${next}`} (use \\\\ for a backslash)`);
      return undefined;
    }
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

/** RE2's `GlobalReplace` of every match of `rw.regex` in `input`; `input` itself when nothing matched. */
export function replaceAll(rw: RegexRewrite, input: string): string {
  const m = rw.regex.re.matcher(input);
  let out = '';
  let p = 0;
  let lastEnd = -1;
  let count = 0;
  while (p <= input.length && m.find(p)) {
    const start = m.start();
    const end = m.end();
    if (p < start) out += input.slice(p, start);
    if (start === end && start === lastEnd) {
      // An empty match where the previous one ended: copy one character (a whole surrogate pair) and go on.
      if (start >= input.length) break;
      const step = isHighSurrogate(input.charCodeAt(start)) && start + 1 < input.length ? 2 : 1;
      out += input.slice(start, start + step);
      p = start + step;
      continue;
    }
    for (const part of rw.parts) out += typeof part === 'string' ? part : (m.group(part) ?? '');
    p = end;
    lastEnd = end;
    count++;
  }
  if (count === 0) return input;
  if (p < input.length) out += input.slice(p);
  return out;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
