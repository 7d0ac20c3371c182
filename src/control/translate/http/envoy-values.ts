/**
 * Small Envoy value builders shared by the HTTP route translators: durations, percentages, string
 * matchers and header options in the plain camelCase form that `encodeResource` (protobufjs
 * `fromObject`) accepts. Istio config values (Go durations, `Percent`, `StringMatch`) come in; Envoy
 * values go out.
 */
import type { StringMatch } from '../../../api/index.ts';

/** A `google.protobuf.Duration` as a plain object. */
export interface ProtoDuration {
  readonly seconds: number;
  readonly nanos?: number;
}

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Nanoseconds of a Go duration (`1.5s`, `100ms`, `1h30m`, `0`), as Istio's CRDs write them, or
 * undefined when `text` is not one. Validation has already accepted every duration that reaches here.
 */
export function goDurationNanos(text: string): number | undefined {
  if (text === '0') return 0;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (m === null || m.index !== start) return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
  }
  return text === '' ? undefined : Math.round(total);
}

/** A protobuf Duration from nanoseconds. */
export function durationFromNanos(ns: number): ProtoDuration {
  const seconds = Math.floor(ns / 1e9);
  const nanos = Math.round(ns - seconds * 1e9);
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

/** A protobuf Duration from a Go duration string; an unparseable value (never valid config) is 0s. */
export function protoDuration(text: string): ProtoDuration {
  return durationFromNanos(goDurationNanos(text) ?? 0);
}

/** Zero: for route timeouts Istio uses it to disable Envoy's default 15 s timeout. */
export const NO_TIMEOUT: ProtoDuration = Object.freeze({ seconds: 0 });

export function isZeroDuration(d: ProtoDuration): boolean {
  return d.seconds === 0 && (d.nanos ?? 0) === 0;
}

/** `envoy.type.v3.FractionalPercent` from an Istio `Percent` (a double 0–100): per million, as Istio does. */
export function percentPerMillion(value: number): Record<string, unknown> {
  return { numerator: Math.trunc(value * 10_000), denominator: 'MILLION' };
}

/** `envoy.type.v3.FractionalPercent` from an integer percentage (deprecated `percent` fields). */
export function percentPerHundred(value: number): Record<string, unknown> {
  return { numerator: Math.max(0, Math.trunc(value)), denominator: 'HUNDRED' };
}

/**
 * Istio's "presence" StringMatch: no matcher at all, or `regex: "*"` (which is not RE2 and Istio has
 * always read as "any value"; https://github.com/istio/istio/pull/20629).
 */
export function isPresenceMatch(m: StringMatch | undefined): boolean {
  if (m === undefined) return true;
  if (m.regex === '*') return true;
  return m.exact === undefined && m.prefix === undefined && m.regex === undefined;
}

/** `envoy.type.matcher.v3.StringMatcher` for a StringMatch, or undefined when it sets no matcher. */
export function stringMatcher(m: StringMatch): Record<string, unknown> | undefined {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { safeRegex: { regex: m.regex } };
  return undefined;
}

/** `envoy.config.core.v3.HeaderValueOption`: `set` overwrites, `add` appends (Istio's translateAppendHeaders). */
export function headerOption(key: string, value: string, append: boolean): Record<string, unknown> {
  return { header: { key, value }, appendAction: append ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

/** A response header naming why weft answered instead of forwarding (DESIGN: every failure says why). */
export const ERROR_HEADER = 'x-weft-error';
