/**
 * Test support for kind schemas: validate YAML text and assert on problems by field path.
 * Used by the `*.test.ts` files beside each kind.
 */
import assert from 'node:assert/strict';
import { parseConfig, type ConfigSet } from './index.ts';
import { formatProblem, type ConfigProblem } from './errors.ts';

export function check(yaml: string, file = 'test.yaml'): ConfigSet {
  return parseConfig(yaml, file);
}

function list(problems: readonly ConfigProblem[]): string {
  return problems.length === 0 ? '(no problems)' : problems.map((p) => `  ${p.severity}: ${formatProblem(p)}`).join('\n');
}

/** Asserts the YAML is valid (warnings allowed unless `noWarnings`) and returns the set. */
export function assertValid(yaml: string, opts: { noWarnings?: boolean } = {}): ConfigSet {
  const set = check(yaml);
  const bad = set.problems.filter((p) => p.severity === 'error' || (opts.noWarnings === true && p.severity === 'warning'));
  assert.equal(bad.length, 0, `expected valid, got:\n${list(set.problems)}`);
  assert.ok(set.resources.length > 0, 'expected at least one resource');
  return set;
}

/**
 * Asserts an error (or warning) at `field` whose message matches `message`, and returns all problems.
 * `field` is the dotted path as printed (`spec.http[0].route[1].weight`).
 */
export function assertProblem(yaml: string, field: string, message: RegExp | string, severity: 'error' | 'warning' = 'error'): ConfigProblem[] {
  const set = check(yaml);
  const hit = set.problems.find((p) => p.field === field && p.severity === severity &&
    (typeof message === 'string' ? p.message.includes(message) : message.test(p.message)));
  assert.ok(hit, `expected ${severity} at ${field} matching ${String(message)}, got:\n${list(set.problems)}`);
  if (severity === 'error') assert.equal(set.resources.length, set.documents - countInvalid(set.problems), 'invalid resources must not be returned');
  return set.problems;
}

function countInvalid(problems: readonly ConfigProblem[]): number {
  const docs = new Set(problems.filter((p) => p.severity === 'error').map((p) => `${p.file}|${p.resource ?? p.line}`));
  return docs.size;
}

/** A resource document with the usual envelope around `spec` (indented YAML). */
export function doc(kind: string, apiVersion: string, spec: string, name = 'test', namespace = 'default'): string {
  const body = spec.trim() === '' ? '' : `spec:\n${spec.replace(/^\n/, '').split('\n').map((l) => `  ${l}`).join('\n')}\n`;
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n${body}`;
}
