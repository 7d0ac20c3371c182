/**
 * Checks a plain object (the camelCase shape that protobufjs `fromObject` accepts) against a message
 * type before it is encoded, so that a generator bug is a clear error instead of silently dropped
 * fields. Stricter than protobufjs's own `verify`, which rejects enum names (that `fromObject`
 * accepts), ignores unknown keys (a misspelled field would vanish from the config) and does not look
 * inside `google.protobuf.Any`. Collects every problem as `field.path: problem`.
 */

import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';

/** Resolves the message type named in an Any's `@type`, or undefined when it is not loaded. */
export type AnyTypeLookup = (messageName: string) => Type | undefined;

const MAX_PROBLEMS = 20;
const MAX_DEPTH = 64;
const ANY = '.google.protobuf.Any';
const LONG_STRING = /^-?\d+$/;

interface Walk {
  readonly problems: string[];
  readonly lookupAny: AnyTypeLookup;
}

/** Every problem of `value` as a `typeName` message (empty when it fits). */
export function checkMessage(type: Type, value: unknown, lookupAny: AnyTypeLookup): string[] {
  const walk: Walk = { problems: [], lookupAny };
  checkObject(walk, type, value, '', 0);
  return walk.problems;
}

function report(walk: Walk, path: string, problem: string): void {
  if (walk.problems.length < MAX_PROBLEMS) walk.problems.push(`${path === '' ? '(root)' : path}: ${problem}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function checkObject(walk: Walk, type: Type, value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) return report(walk, path, 'nested too deeply');
  if (!isPlainObject(value)) return report(walk, path, `${shortName(type)} object expected, got ${describe(value)}`);
  if (type.fullName === ANY && '@type' in value) return checkAny(walk, value, path, depth);
  checkFields(walk, type, value, path, depth, false);
}

function checkAny(walk: Walk, value: Record<string, unknown>, path: string, depth: number): void {
  const url = value['@type'];
  if (typeof url !== 'string') return report(walk, join(path, '@type'), `type URL string expected, got ${describe(url)}`);
  const inner = walk.lookupAny(url.slice(url.lastIndexOf('/') + 1));
  if (inner === undefined) return report(walk, join(path, '@type'), `unknown message type '${url}' (not among the loaded protos)`);
  checkFields(walk, inner, value, path, depth, true);
}

function checkFields(walk: Walk, type: Type, value: Record<string, unknown>, path: string, depth: number, inAny: boolean): void {
  let oneofs: Map<string, string> | undefined;
  for (const key of Object.keys(value)) {
    if (inAny && key === '@type') continue;
    const v = value[key];
    const field = Object.hasOwn(type.fields, key) ? type.fields[key] : undefined;
    if (field === undefined) {
      report(walk, join(path, key), unknownField(type, key));
      continue;
    }
    if (v === undefined || v === null) continue;
    if (field.partOf !== null) {
      oneofs ??= new Map();
      const other = oneofs.get(field.partOf.name);
      if (other !== undefined) report(walk, join(path, key), `oneof '${field.partOf.name}' already set by '${other}'`);
      else oneofs.set(field.partOf.name, key);
    }
    checkField(walk, field, v, join(path, key), depth);
  }
}

function checkField(walk: Walk, field: Field, v: unknown, path: string, depth: number): void {
  if (field.map) {
    if (!isPlainObject(v)) return report(walk, path, `map (object) expected, got ${describe(v)}`);
    for (const k of Object.keys(v)) checkValue(walk, field, v[k], `${path}[${JSON.stringify(k)}]`, depth);
  } else if (field.repeated) {
    if (!Array.isArray(v)) return report(walk, path, `list expected, got ${describe(v)}`);
    for (let i = 0; i < v.length; i++) checkValue(walk, field, v[i], `${path}[${i}]`, depth);
  } else {
    checkValue(walk, field, v, path, depth);
  }
}

function checkValue(walk: Walk, field: Field, v: unknown, path: string, depth: number): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    if (typeof v === 'string') {
      if (!Object.hasOwn(resolved.values, v)) report(walk, path, `unknown ${resolved.name} value '${v}' (${Object.keys(resolved.values).slice(0, 12).join(', ')})`);
    } else if (!Number.isInteger(v)) {
      report(walk, path, `${resolved.name} name or number expected, got ${describe(v)}`);
    }
    return;
  }
  if (resolved instanceof protobuf.Type) return checkObject(walk, resolved, v, path, depth + 1);
  const problem = scalarProblem(field.type, v);
  if (problem !== undefined) report(walk, path, problem);
}

function scalarProblem(type: string, v: unknown): string | undefined {
  switch (type) {
    case 'string': return typeof v === 'string' ? undefined : `string expected, got ${describe(v)}`;
    case 'bool': return typeof v === 'boolean' ? undefined : `boolean expected, got ${describe(v)}`;
    case 'double': case 'float': return typeof v === 'number' ? undefined : `number expected, got ${describe(v)}`;
    case 'int32': case 'sint32': case 'sfixed32':
      return inRange(v, -0x80000000, 0x7fffffff) ? undefined : `32-bit integer expected, got ${describe(v)}`;
    case 'uint32': case 'fixed32':
      return inRange(v, 0, 0xffffffff) ? undefined : `unsigned 32-bit integer expected, got ${describe(v)}`;
    case 'int64': case 'sint64': case 'sfixed64': case 'uint64': case 'fixed64':
      return Number.isSafeInteger(v) || (typeof v === 'string' && LONG_STRING.test(v)) || typeof v === 'bigint'
        ? undefined : `64-bit integer expected, got ${describe(v)}`;
    case 'bytes': return v instanceof Uint8Array || typeof v === 'string' ? undefined : `bytes (Uint8Array or base64) expected, got ${describe(v)}`;
    default: return undefined;
  }
}

function inRange(v: unknown, min: number, max: number): boolean {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
}

function unknownField(type: Type, key: string): string {
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const hint = camel !== key && Object.hasOwn(type.fields, camel) ? ` (write camelCase: '${camel}')` : '';
  return `unknown field of ${shortName(type)}${hint}`;
}

function shortName(type: Type): string {
  return type.fullName.startsWith('.') ? type.fullName.slice(1) : type.fullName;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
