/**
 * Regular expressions in config are RE2 (what Envoy and Istio use), checked with re2js, the JavaScript
 * port of RE2. JavaScript's RegExp is never applied to config: it accepts look-arounds and
 * backreferences that RE2 rejects, and rejects some RE2 syntax (`(?P<name>…)`, `\C`, `(?i)` mid-pattern).
 */
import { RE2JS } from 're2js';

/** The RE2 syntax error for `pattern`, or undefined when RE2 accepts it. */
export function re2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '') : String(e);
    return `is not a valid RE2 regular expression: ${reason}`;
  }
}

/** Compiles an RE2 pattern that must match the whole input (Envoy's safe_regex semantics). */
export function compileFullMatch(pattern: string): (input: string) => boolean {
  const re = RE2JS.compile(pattern);
  return (input) => re.matches(input);
}
