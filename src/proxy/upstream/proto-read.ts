/**
 * Reading decoded Envoy protos (plain camelCase objects from `decodeResource`: enums as names,
 * durations as `{seconds, nanos}`, wrappers as `{value}`, `Any` as `{'@type', …}`) while compiling
 * clusters and endpoints. Every reader reports a bad value to `Problems` as `field.path: problem` and
 * returns a harmless default, so one pass collects everything the xDS client puts in its NACK.
 */
import type { Proto } from '../core/contracts.ts';

export type { Proto };

export class Problems {
  readonly list: string[] = [];

  add(path: string, problem: string): void {
    this.list.push(`${path === '' ? '(root)' : path}: ${problem}`);
  }
}

export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function obj(v: unknown): Proto | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) ? (v as Proto) : undefined;
}

export function has(p: Proto, key: string): boolean {
  return p[key] !== undefined && p[key] !== null;
}

/** A sub-message; absent reads as `{}` (proto3 default), a non-object is a problem. */
export function message(p: Proto, key: string, path: string, problems: Problems): Proto {
  const v = p[key];
  if (v === undefined || v === null) return {};
  const o = obj(v);
  if (o === undefined) problems.add(at(path, key), `expected a message (got ${JSON.stringify(v)})`);
  return o ?? {};
}

export function list(p: Proto, key: string, path: string, problems: Problems): readonly unknown[] {
  const v = p[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.add(at(path, key), 'expected a list');
    return [];
  }
  return v;
}

export function text(p: Proto, key: string, path: string, problems: Problems): string {
  const v = p[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') {
    problems.add(at(path, key), `expected a string (got ${JSON.stringify(v)})`);
    return '';
  }
  return v;
}

function integer(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** A uint32 field or a `UInt32Value` wrapper (`{}` holds 0); `undefined` when absent. */
export function u32(p: Proto, key: string, path: string, problems: Problems): number | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  const w = obj(v);
  const raw = w === undefined ? v : (w['value'] ?? 0);
  const n = integer(raw);
  if (n === undefined || n < 0 || n > 0xffffffff) {
    problems.add(at(path, key), `expected an unsigned 32-bit integer (got ${JSON.stringify(raw)})`);
    return undefined;
  }
  return n;
}

/** A `BoolValue` wrapper or a bool; absent reads as `fallback`. */
export function bool(p: Proto, key: string, path: string, problems: Problems, fallback = false): boolean {
  const v = p[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  const w = obj(v);
  if (w !== undefined && (w['value'] === undefined || typeof w['value'] === 'boolean')) return w['value'] === true;
  problems.add(at(path, key), `expected a bool (got ${JSON.stringify(v)})`);
  return fallback;
}

/** A `google.protobuf.Duration` in milliseconds; `undefined` when absent. */
export function durationMs(p: Proto, key: string, path: string, problems: Problems): number | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  const d = obj(v);
  const seconds = integer(d?.['seconds'] ?? 0);
  const nanos = integer(d?.['nanos'] ?? 0);
  if (d === undefined || seconds === undefined || nanos === undefined) {
    problems.add(at(path, key), `expected a duration {seconds, nanos} (got ${JSON.stringify(v)})`);
    return undefined;
  }
  const ms = seconds * 1000 + nanos / 1e6;
  if (ms < 0) {
    problems.add(at(path, key), `must not be negative (got ${ms} ms)`);
    return undefined;
  }
  return ms;
}

/** An enum by name (or number, index into `names`); absent reads as the zero value `names[0]`. */
export function enumName<T extends string>(p: Proto, key: string, names: readonly T[], path: string, problems: Problems): T {
  const v = p[key];
  if (v === undefined || v === null) return names[0]!;
  const name = typeof v === 'number' ? names[v] : names.find((n) => n === v);
  if (name === undefined) {
    problems.add(at(path, key), `unknown value ${JSON.stringify(v)} (expected one of ${names.join(', ')})`);
    return names[0]!;
  }
  return name;
}

/** `envoy.type.v3.Percent` (`{value: double}` in 0–100); `undefined` when absent. */
export function percent(p: Proto, key: string, path: string, problems: Problems): number | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  const raw = obj(v)?.['value'] ?? 0;
  if (typeof raw !== 'number' || !(raw >= 0 && raw <= 100)) {
    problems.add(at(path, key), `expected a percent in [0, 100] (got ${JSON.stringify(raw)})`);
    return undefined;
  }
  return raw;
}

/** The `@type` of an expanded `Any`, or '' when absent. */
export function anyType(v: unknown): string {
  const t = obj(v)?.['@type'];
  return typeof t === 'string' ? t : '';
}
