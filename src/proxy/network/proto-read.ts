/**
 * Reading decoded Envoy protos (plain camelCase objects from `decodeResource`, or hand-written ones in
 * tests) while collecting problems as `field.path: problem (got value)`. Proto3 omits defaults, so an
 * absent field reads as its default; wrappers are `{value}` (`{}` is the wrapped default); durations are
 * `{seconds, nanos}`; an `Any` is `{'@type', …fields}` when its type is loaded, else `{typeUrl|type_url,
 * value}`. Readers never throw: odd shapes become problems.
 */
import type { Proto } from '../core/contracts.ts';

export type Problems = string[];

/** `path.field`, or `field` at the root (path ''). */
export function at(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

export function obj(v: unknown): Proto | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) ? (v as Proto) : undefined;
}

/** Whether a field carries a non-default value (an empty message `{}` counts as set). */
export function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  return !(Array.isArray(v) && v.length === 0);
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Adds `path: message (got value)`. */
export function problem(problems: Problems, path: string, message: string, got?: unknown): void {
  problems.push(got === undefined ? `${path}: ${message}` : `${path}: ${message} (got ${show(got)})`);
}

/** A sub-message, or undefined when absent; a non-object is a problem. */
export function message(parent: Proto, field: string, path: string, problems: Problems): Proto | undefined {
  const v = parent[field];
  if (v === undefined || v === null) return undefined;
  const o = obj(v);
  if (o === undefined) problem(problems, at(path, field), 'must be a message', v);
  return o;
}

/** A repeated message field (absent → empty); non-object items are problems. */
export function messages(parent: Proto, field: string, path: string, problems: Problems): Proto[] {
  const v = parent[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problem(problems, at(path, field), 'must be a list', v);
    return [];
  }
  const out: Proto[] = [];
  v.forEach((item, i) => {
    const o = obj(item);
    if (o === undefined) problem(problems, `${at(path, field)}[${i}]`, 'must be a message', item);
    else out.push(o);
  });
  return out;
}

export function string(parent: Proto, field: string, path: string, problems: Problems): string {
  const v = parent[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') {
    problem(problems, at(path, field), 'must be a string', v);
    return '';
  }
  return v;
}

export function strings(parent: Proto, field: string, path: string, problems: Problems): string[] {
  const v = parent[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    problem(problems, at(path, field), 'must be a list of strings', v);
    return [];
  }
  return v as string[];
}

export function bool(parent: Proto, field: string, path: string, problems: Problems): boolean {
  const v = parent[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') {
    problem(problems, at(path, field), 'must be a boolean', v);
    return false;
  }
  return v;
}

/** A scalar integer (int64 may arrive as a decimal string). */
export function integer(parent: Proto, field: string, path: string, problems: Problems): number {
  const v = parent[field];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    problem(problems, at(path, field), 'must be an integer', v);
    return 0;
  }
  return n;
}

/** A repeated integer field (absent → empty). */
export function integers(parent: Proto, field: string, path: string, problems: Problems): number[] {
  const v = parent[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problem(problems, at(path, field), 'must be a list of integers', v);
    return [];
  }
  return v.map((item: unknown, i) => {
    const n = typeof item === 'string' && /^-?\d+$/.test(item) ? Number(item) : item;
    if (typeof n === 'number' && Number.isInteger(n)) return n;
    problem(problems, `${at(path, field)}[${i}]`, 'must be an integer', item);
    return 0;
  });
}

/** A `google.protobuf.BoolValue`: undefined when absent, the wrapped value (default false) when present. */
export function boolValue(parent: Proto, field: string, path: string, problems: Problems): boolean | undefined {
  const w = message(parent, field, path, problems);
  return w === undefined ? undefined : bool(w, 'value', at(path, field), problems);
}

/** A `UInt32Value`/`UInt64Value`: undefined when absent, the wrapped value (default 0) when present. */
export function uintValue(parent: Proto, field: string, path: string, problems: Problems): number | undefined {
  const w = message(parent, field, path, problems);
  if (w === undefined) return undefined;
  const n = integer(w, 'value', at(path, field), problems);
  if (n < 0) problem(problems, `${at(path, field)}.value`, 'must not be negative', n);
  return n;
}

/** A `google.protobuf.Duration` in milliseconds, or undefined when absent. */
export function durationMs(parent: Proto, field: string, path: string, problems: Problems): number | undefined {
  const d = message(parent, field, path, problems);
  if (d === undefined) return undefined;
  const p = at(path, field);
  const seconds = integer(d, 'seconds', p, problems);
  const nanos = integer(d, 'nanos', p, problems);
  if (seconds < 0 || nanos < 0 || nanos > 999_999_999) {
    problem(problems, p, 'must be a non-negative duration', d);
    return undefined;
  }
  return seconds * 1000 + nanos / 1e6;
}

/** An enum field as its name (`names[number]` for numeric input); the first name when absent. */
export function enumName<T extends string>(parent: Proto, field: string, names: readonly T[], path: string, problems: Problems): T {
  const v = parent[field];
  if (v === undefined || v === null) return names[0]!;
  const name = typeof v === 'number' ? names[v] : v;
  if (typeof name !== 'string' || !(names as readonly string[]).includes(name)) {
    problem(problems, at(path, field), `must be one of ${names.join(', ')}`, v);
    return names[0]!;
  }
  return name as T;
}

/** The type URL of an `Any` as decoded: `@type` when its type is loaded, else `typeUrl`/`type_url`. */
export function anyTypeUrl(v: unknown): string | undefined {
  const o = obj(v);
  if (o === undefined) return undefined;
  const url = o['@type'] ?? o['typeUrl'] ?? o['type_url'];
  return typeof url === 'string' ? url : undefined;
}

/** The message name behind a type URL (`envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`). */
export function typeName(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

/** Reports each of `fields` that is set on `parent` as unsupported (a field weft cannot honour changes behaviour). */
export function unsupported(parent: Proto, fields: readonly string[], path: string, problems: Problems, why = 'not supported by weft'): void {
  for (const f of fields) if (isSet(parent[f])) problem(problems, at(path, f), why);
}
