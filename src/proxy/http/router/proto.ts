/**
 * Reading decoded Envoy protos (plain camelCase objects as `decodeResource` returns them) while
 * compiling, and collecting every problem as `field.path: problem`. Absent fields read as protobuf
 * defaults; wrappers (`{value}`), enum names or numbers, durations (`{seconds, nanos}`) and `Any`
 * (`{'@type', …}`) are understood. Compilation never throws: a bad field becomes a problem and a
 * harmless default, so that one pass reports everything the xDS client needs for its NACK.
 */
import type { Proto } from '../../core/contracts.ts';

export type { Proto };

/** Where a compiler writes problems; `path` is the camelCase field path of the value being read. */
export class Problems {
  readonly list: string[] = [];

  add(path: string, problem: string): void {
    this.list.push(`${path === '' ? '(root)' : path}: ${problem}`);
  }
}

export function field(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function obj(v: unknown): Proto | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) ? (v as Proto) : undefined;
}

export function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A string field: absent and '' are the same in proto3. */
export function text(p: Proto, key: string): string {
  const v = p[key];
  return typeof v === 'string' ? v : '';
}

/**
 * A number, a numeric string (64-bit integers may be decoded as strings) or a wrapper `{value}`; a
 * wrapper holding 0 decodes as `{}` (proto3 omits default values), which reads as 0.
 */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  const w = obj(v);
  if (w === undefined) return undefined;
  return 'value' in w ? num(w['value']) : 0;
}

/** A bool or a BoolValue wrapper; absent reads as `fallback`. */
export function bool(v: unknown, fallback = false): boolean {
  if (typeof v === 'boolean') return v;
  const w = obj(v);
  if (w !== undefined && typeof w['value'] === 'boolean') return w['value'];
  // `{}` is a BoolValue holding false.
  if (w !== undefined && !('value' in w)) return false;
  return fallback;
}

/** Whether a message field is set (present and not null). */
export function has(p: Proto, key: string): boolean {
  return p[key] !== undefined && p[key] !== null;
}

/**
 * An enum value as its name, checked against `names` (index = number), as PGV's `defined_only` does;
 * absent reads as the first name (proto3's zero value).
 */
export function enumName(p: Proto, key: string, names: readonly string[], path: string, problems: Problems): string {
  const v = p[key];
  if (v === undefined || v === null) return names[0]!;
  const name = typeof v === 'number' ? names[v] : typeof v === 'string' && names.includes(v) ? v : undefined;
  if (name === undefined) {
    problems.add(field(path, key), `unknown value ${JSON.stringify(v)} (expected one of ${names.join(', ')})`);
    return names[0]!;
  }
  return name;
}

const MAX_SECONDS = 315_576_000_000;

/**
 * A `google.protobuf.Duration` in milliseconds (rounded up from nanoseconds, as Envoy's
 * `PROTOBUF_GET_MS` truncates but never turns a non-zero duration into 0), or undefined when absent.
 * Negative or out-of-range durations are problems, as Envoy's duration validation makes them.
 */
export function durationMs(p: Proto, key: string, path: string, problems: Problems): number | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  const d = obj(v);
  const seconds = d === undefined ? undefined : num(d['seconds'] ?? 0);
  const nanos = d === undefined ? undefined : num(d['nanos'] ?? 0);
  if (seconds === undefined || nanos === undefined) {
    problems.add(field(path, key), `duration {seconds, nanos} expected, got ${JSON.stringify(v)}`);
    return undefined;
  }
  if (seconds < 0 || nanos < 0 || nanos >= 1e9 || seconds > MAX_SECONDS) {
    problems.add(field(path, key), `invalid duration (seconds ${seconds}, nanos ${nanos}): must be non-negative and in range`);
    return undefined;
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

/** Whether a Duration message is exactly zero (`{}` or zero seconds and nanos). */
export function isZeroDuration(v: unknown): boolean {
  const d = obj(v);
  return d !== undefined && (num(d['seconds'] ?? 0) ?? 0) === 0 && (num(d['nanos'] ?? 0) ?? 0) === 0;
}

/** `envoy.type.v3.FractionalPercent`: numerator over 100, 10 000 or 1 000 000. */
export interface Fraction {
  readonly numerator: number;
  readonly denominator: number;
}

const DENOMINATORS = ['HUNDRED', 'TEN_THOUSAND', 'MILLION'];
const DENOMINATOR_VALUES = [100, 10_000, 1_000_000];

export function fraction(v: unknown, path: string, problems: Problems): Fraction {
  const p = obj(v) ?? {};
  const numerator = num(p['numerator']) ?? 0;
  const name = enumName(p, 'denominator', DENOMINATORS, path, problems);
  if (numerator < 0) problems.add(field(path, 'numerator'), `must be non-negative (got ${numerator})`);
  return { numerator: Math.max(0, numerator), denominator: DENOMINATOR_VALUES[DENOMINATORS.indexOf(name)]! };
}

/**
 * `core.v3.RuntimeFractionalPercent`. weft has no runtime layer, so only `default_value` counts; the
 * runtime key is kept for display.
 */
export function runtimeFraction(v: unknown, path: string, problems: Problems): Fraction {
  const p = obj(v) ?? {};
  if (!has(p, 'defaultValue')) problems.add(field(path, 'defaultValue'), 'required');
  return fraction(p['defaultValue'], field(path, 'defaultValue'), problems);
}

/** Envoy's `ProtobufPercentHelper::evaluateFractionalPercent`: `random % denominator < numerator`. */
export function fractionHits(f: Fraction, random: number): boolean {
  return random % f.denominator < f.numerator;
}

// PGV's HTTP_HEADER_NAME / HTTP_HEADER_VALUE with `strict: false`: no NUL, CR or LF.
const HEADER_TEXT = /^[^\0\r\n]*$/;

/** Checks a header name (non-empty, no NUL/CR/LF); returns it lower-cased, as Envoy's LowerCaseString. */
export function headerName(v: unknown, path: string, problems: Problems): string {
  const s = str(v) ?? '';
  if (s === '') problems.add(path, 'header name required');
  else if (!HEADER_TEXT.test(s)) problems.add(path, `invalid header name ${JSON.stringify(s)} (NUL, CR or LF)`);
  return s.toLowerCase();
}

/** Checks a header-value-like string (no NUL/CR/LF). */
export function headerValue(v: unknown, path: string, problems: Problems): string {
  const s = str(v) ?? '';
  if (!HEADER_TEXT.test(s)) problems.add(path, `invalid header value ${JSON.stringify(s)} (NUL, CR or LF)`);
  return s;
}

/** The type URL of an `Any` (`type.googleapis.com/…`), or undefined. */
export function anyTypeUrl(v: unknown): string | undefined {
  return str(obj(v)?.['@type']);
}
