/**
 * Reading plain protobuf objects defensively: a field may be absent (a protobuf default), a wrapper
 * (`{value}`), an enum name or number, or an Any (`{'@type', …}`). The simulator never trusts shapes
 * and never throws on odd input; a missing piece reads as the protobuf default.
 */
import type { Plain } from './types.ts';

export function obj(v: unknown): Plain | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Plain) : undefined;
}

export function list(v: unknown): readonly Plain[] {
  return Array.isArray(v) ? v.filter((x): x is Plain => obj(x) !== undefined) : [];
}

export function strings(v: unknown): readonly string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A number, a numeric string (int64 as decoded), or a wrapper `{value}`. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  const w = obj(v);
  return w !== undefined && 'value' in w ? num(w['value']) : undefined;
}

/** A bool, or a BoolValue wrapper. */
export function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const w = obj(v);
  return w !== undefined && typeof w['value'] === 'boolean' ? w['value'] : undefined;
}

/** The message name of an Any (`envoy.extensions…HttpConnectionManager`), or undefined. */
export function anyType(v: unknown): string | undefined {
  const url = str(obj(v)?.['@type']);
  return url === undefined ? undefined : url.slice(url.lastIndexOf('/') + 1);
}

/** An enum value as its name; numbers are looked up in `names` (index = number). */
export function enumName(v: unknown, names: readonly string[]): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return names[v];
  return undefined;
}

/** `address:port` of an `envoy.config.core.v3.Address` (or `unix://path` for a pipe). */
export function addressString(address: unknown): string | undefined {
  const a = obj(address);
  const socket = obj(a?.['socketAddress']);
  if (socket !== undefined) return `${str(socket['address']) ?? ''}:${num(socket['portValue']) ?? 0}`;
  const pipe = str(obj(a?.['pipe'])?.['path']);
  return pipe === undefined ? undefined : `unix://${pipe}`;
}
