/**
 * Object and choice helpers shared by every kind's schema.
 *
 * `obj` is a strict object: unknown fields are errors, each with a "did you mean" suggestion, as
 * kubectl's strict field validation reports them. The suggestion is computed here, where the known
 * field names are at hand; zod reports all unknown keys of an object as one issue, so the message holds
 * one line per key (in `keys` order) and `issues.ts` splits it back into one problem per field.
 */
import * as z from 'zod';
import { didYouMean } from './suggest.ts';
import { showValue } from '../errors.ts';

export function unknownFieldMessage(key: string, known: readonly string[]): string {
  return `unknown field${didYouMean(key, known)}`;
}

export function obj<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? iss.keys.map((k) => unknownFieldMessage(k, known)).join('\n') : undefined),
  });
}

/** Adds a check that returns a problem message (or undefined when the value is fine). */
export function check<T extends z.ZodType>(schema: T, test: (value: z.output<T>) => string | undefined): T {
  return schema.superRefine((value, ctx) => {
    const problem = test(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: value });
  }) as unknown as T;
}

/** An issue to add from a cross-field rule: a path relative to the object being checked, and a message. */
export interface RuleIssue {
  readonly path?: readonly (string | number)[];
  readonly message: string;
  /** Warnings are reported but do not make the resource invalid (Istio's validation warnings). */
  readonly severity?: 'error' | 'warning';
}

/** Whether one path is a prefix of the other (an issue at one is about the other). */
function related(a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Adds cross-field rules to an object schema. `rules` pushes every problem it finds (a rule never stops
 * at the first).
 *
 * Rules run even when some fields of the object have errors, so one missing field does not hide an
 * unrelated problem beside it (a `weight: 150` next to a destination without `host`). The value may then
 * be malformed where those errors are: a rule's finding about a field that already has an error (or
 * contains one) is dropped, and a rule that trips over a malformed value is cut short — its structural
 * errors are already reported. On a well-formed value a throwing rule is a bug and is not swallowed.
 */
export function rules<T extends z.ZodType>(schema: T, rule: (value: z.output<T>, report: (issue: RuleIssue) => void) => void): T {
  return schema.superRefine((value, ctx) => {
    const prior = ctx.issues.map((i) => i.path ?? []);
    const report = (issue: RuleIssue) => {
      const path = issue.path ? [...issue.path] : [];
      if (prior.some((p) => related(p, path))) return;
      ctx.addIssue({
        code: 'custom', message: issue.message, path, input: value,
        ...(issue.severity === 'warning' ? { params: { severity: 'warning' } } : {}),
      });
    };
    if (prior.length === 0) {
      rule(value, report);
      return;
    }
    try {
      rule(value, report);
    } catch {
      // Malformed input (already reported): the rule could not finish.
    }
  }, { when: () => true }) as unknown as T;
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Rule: at most one of `fields` may be set (a protobuf oneof). */
export function atMostOne<T extends Record<string, unknown>>(value: T, fields: readonly (keyof T & string)[], report: (i: RuleIssue) => void): void {
  const set = fields.filter((f) => isSet(value[f]));
  if (set.length > 1) {
    report({ path: [set[1]!], message: `only one of ${fields.join(', ')} may be set (found ${set.join(' and ')})` });
  }
}

/** Rule: exactly one of `fields` must be set. */
export function exactlyOne<T extends Record<string, unknown>>(value: T, fields: readonly (keyof T & string)[], report: (i: RuleIssue) => void): void {
  const set = fields.filter((f) => isSet(value[f]));
  if (set.length === 0) report({ message: `one of ${fields.join(', ')} must be set` });
  else atMostOne(value, fields, report);
}

/** A string enum whose error lists the allowed values and suggests the closest one. */
export function oneOf<const V extends readonly [string, ...string[]]>(values: V) {
  return z.enum(values, {
    error: (iss) => {
      const input = iss.input;
      const hint = typeof input === 'string' ? didYouMean(input, values) : '';
      return `must be one of ${values.join(', ')} (got ${showValue(input)})${hint}`;
    },
  });
}
