/** Turns zod's issues into weft's `FieldIssue`s with messages that name the offending value. */
import type * as z from 'zod';
import { describeValue, showValue, type FieldIssue, type FieldPath } from '../errors.ts';

const ARTICLE: Readonly<Record<string, string>> = {
  string: 'a string', number: 'a number', boolean: 'a boolean (true or false)', object: 'an object',
  array: 'a list', int: 'an integer', record: 'a map of keys to values',
};

/**
 * `[1.2.3.4, 2001:db8::]` reads as a one-key map in YAML (a `:` before `]`, `,` or a space ends a key),
 * so a bare IPv6 address or `host:port` turns into an object. Say so, and how to fix it.
 */
function yamlKeyHint(input: unknown): string {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return '';
  const entries = Object.entries(input);
  if (entries.length !== 1 || entries[0]![1] !== null) return '';
  return `; YAML read ${JSON.stringify(`${entries[0]![0]}:`)} as a map key, quote the value`;
}

function typeMessage(issue: z.core.$ZodIssueInvalidType, input: unknown): string {
  if (input === undefined) return 'is required';
  const want = ARTICLE[issue.expected] ?? issue.expected;
  const hint = issue.expected === 'string' ? yamlKeyHint(input) : '';
  return `must be ${want} (got ${describeValue(input)}${hint})`;
}

function boundMessage(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, input: unknown): string {
  const small = issue.code === 'too_small';
  const bound = small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum;
  switch (issue.origin) {
    case 'array':
    case 'set':
      if (small && Number(bound) === 1) return 'must have at least one entry';
      return `must have at ${small ? 'least' : 'most'} ${bound} entries`;
    case 'string':
      if (small && Number(bound) === 1) return 'must not be empty';
      return `must be at ${small ? 'least' : 'most'} ${bound} characters (got ${showValue(input)})`;
    default:
      return `must be at ${small ? 'least' : 'most'} ${bound} (got ${showValue(input)})`;
  }
}

/**
 * Converts the issues of one `safeParse` into field issues, prefixing `base` to every path.
 * `root` is the parsed input, used to show offending values when zod did not keep them.
 */
export function toFieldIssues(issues: readonly z.core.$ZodIssue[], base: FieldPath, root: unknown): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of issues) {
    const path: FieldPath = [...base, ...(issue.path as (string | number)[])];
    const input = 'input' in issue ? issue.input : valueAt(root, issue.path as (string | number)[]);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const lines = issue.message.split('\n');
        issue.keys.forEach((k, i) => out.push({ path: [...path, k], message: lines[i] ?? 'unknown field' }));
        break;
      }
      case 'invalid_type':
        out.push({ path, message: typeMessage(issue, input) });
        break;
      case 'too_big':
      case 'too_small':
        out.push({ path, message: issue.message.startsWith('Too ') ? boundMessage(issue, input) : issue.message });
        break;
      case 'invalid_union': {
        // Pick the branch that got furthest (fewest issues) and report its problems.
        const best = [...issue.errors].sort((a, b) => a.length - b.length)[0];
        if (best !== undefined && best.length > 0 && best.every((i) => i.code !== 'invalid_type' || i.path.length > 0)) {
          out.push(...toFieldIssues(best, path, input));
        } else {
          out.push({ path, message: `has an unexpected type or shape (got ${describeValue(input)})` });
        }
        break;
      }
      case 'custom': {
        const warn = (issue.params as { severity?: string } | undefined)?.severity === 'warning';
        out.push(warn ? { path, message: issue.message, severity: 'warning' } : { path, message: issue.message });
        break;
      }
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** The value at `path` inside `root`, or undefined. */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}
