/**
 * The config path's error model: every problem found in a resource is a `FieldIssue` (a field path and
 * what is wrong with it); the loader places it in a file and line, making a `ConfigProblem`.
 * Nothing on the config path throws for bad input: problems are collected and all of them reported.
 */

export type Severity = 'error' | 'warning' | 'info';

/** A path into a resource, e.g. `['spec', 'http', 0, 'route', 1, 'weight']`. */
export type FieldPath = readonly (string | number)[];

/** One problem in one field of one resource. */
export interface FieldIssue {
  readonly path: FieldPath;
  readonly message: string;
  readonly severity?: Severity;
}

/** Where a resource (or a problem in it) was written. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

/** A problem placed in its file: what `weft validate` prints. */
export interface ConfigProblem {
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  /** `Kind namespace/name`, or absent when the document could not be identified. */
  readonly resource?: string;
  /** Dotted field path (`spec.http[0].route[1].weight`); empty for document-level problems. */
  readonly field: string;
  readonly message: string;
}

const IDENT = /^[A-Za-z_$][\w$-]*$/;

/** Formats a path as `spec.http[0].match["x-y.z"]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `file:line Kind ns/name field: message`, the one-line form used by the CLI. */
export function formatProblem(p: ConfigProblem): string {
  const where = `${p.file}:${p.line}`;
  const what = p.resource === undefined ? '' : ` ${p.resource}`;
  const field = p.field === '' ? '' : ` ${p.field}`;
  return `${where}${what}${field}: ${p.message}`;
}

/** A short, readable rendering of an offending value for messages: `"abc"`, `150`, `an object`. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

/** Names a value's type for "must be a string (got a number 3)" messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string': return `the string ${showValue(v)}`;
    case 'number': return `the number ${v}`;
    case 'boolean': return `the boolean ${v}`;
    case 'object': return 'an object';
    default: return typeof v;
  }
}
