/**
 * The zod building blocks every kind is written with. Each carries Istio's rule and a message that
 * names the offending value, so kinds read like the API reference: `port: port()`, `timeout: duration()`.
 */
import * as z from 'zod';
import { check } from './object.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { re2Problem } from './regex.ts';
import { cidrProblem, ipProblem } from './net.ts';
import {
  dns1123LabelProblem, dns1123SubdomainProblem, labelKeyProblem, labelValueProblem, wildcardHostProblem,
} from './names.ts';
import { showValue } from '../errors.ts';

export const str = () => z.string();
export const bool = () => z.boolean();

export function nonEmpty() {
  return check(z.string(), (v) => (v === '' ? 'must not be empty' : undefined));
}

/** An integer in [min, max]. */
export function intIn(min: number, max: number) {
  return check(z.number(), (v) =>
    Number.isInteger(v) && v >= min && v <= max ? undefined : `must be an integer between ${min} and ${max} (got ${showValue(v)})`);
}

/** A number in [min, max]. */
export function numIn(min: number, max: number) {
  return check(z.number(), (v) => (v >= min && v <= max ? undefined : `must be between ${min} and ${max} (got ${v})`));
}

export const uint32 = () => intIn(0, 4294967295);
export const int32 = () => intIn(-2147483648, 2147483647);
/** protobuf uint64/int64 arrive as numbers (or, in protobuf JSON, strings of digits). */
export function uint64() {
  return check(z.union([z.number(), z.string()]), (v) =>
    (typeof v === 'number' ? Number.isInteger(v) && v >= 0 : /^\d+$/.test(v)) ? undefined : `must be a non-negative integer (got ${showValue(v)})`);
}
export const port = () => intIn(1, 65535);
/** An integer percentage 0–100 (Istio's deprecated int `percent` fields). */
export const percentInt = () => intIn(0, 100);

/**
 * A Go duration string (`1.5s`, `100ms`, `1h30m`). `min` is inclusive (Istio requires ≥ 1ms for most
 * timeouts and intervals); `allowZero` permits `0s` despite a minimum, as some fields treat 0 as "off".
 */
export function duration(opts: { min?: string; max?: string; allowZero?: boolean } = {}) {
  const min = opts.min === undefined ? undefined : parseDuration(opts.min);
  const max = opts.max === undefined ? undefined : parseDuration(opts.max);
  return check(z.string(), (v) => {
    const ms = parseDuration(v);
    if (ms === undefined) return `must be a duration like "1.5s", "100ms" or "1h30m" (got ${showValue(v)})`;
    if (ms < 0) return `must not be negative (got ${showValue(v)})`;
    if (ms === 0 && opts.allowZero) return undefined;
    if (min !== undefined && ms < min) return `must be at least ${formatDuration(min)} (got ${showValue(v)})`;
    if (max !== undefined && ms > max) return `must be at most ${formatDuration(max)} (got ${showValue(v)})`;
    return undefined;
  });
}

/** An RE2 regular expression. */
export function regex() {
  return check(z.string(), (v) => (v === '' ? 'regex must not be empty' : re2Problem(v)));
}

const TOKEN = /^[-_A-Za-z0-9]+$/;

/** An HTTP header name as Istio accepts it in matches and policies: letters, digits, '-' and '_'. */
export function headerName() {
  return check(z.string(), headerNameProblem);
}

export function headerNameProblem(v: string): string | undefined {
  if (v === '') return 'header name must not be empty';
  if (!TOKEN.test(v)) return `is not a valid header name: use letters, digits, '-' and '_' (got ${showValue(v)})`;
  return undefined;
}

/** Header names in VirtualService matches must be lowercase: Envoy lowercases incoming header names. */
export function lowercaseHeaderNameProblem(v: string): string | undefined {
  const p = headerNameProblem(v);
  if (p !== undefined) return p;
  return v !== v.toLowerCase() ? `header names must be lowercase (got ${showValue(v)}; use ${showValue(v.toLowerCase())})` : undefined;
}

export const dnsLabel = () => check(z.string(), dns1123LabelProblem);
export const dnsSubdomain = () => check(z.string(), dns1123SubdomainProblem);
export const wildcardHost = () => check(z.string(), wildcardHostProblem);
export const ipAddress = () => check(z.string(), ipProblem);
export const cidr = () => check(z.string(), (v) => cidrProblem(v));
/** An IP address or CIDR block (AuthorizationPolicy ipBlocks, ServiceEntry addresses). */
export const ipOrCidr = () => check(z.string(), (v) => cidrProblem(v, true));

/** A Kubernetes label map (also used for workload selectors). */
export function labelMap() {
  return z.record(z.string(), z.string()).superRefine((m, ctx) => {
    for (const [k, v] of Object.entries(m)) {
      const kp = labelKeyProblem(k);
      if (kp !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: kp, input: k });
      const vp = labelValueProblem(v);
      if (vp !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: vp, input: v });
    }
  });
}

/**
 * Labels a selector matches (workload selectors, `sourceLabels`, Service selectors). Matching is literal,
 * so `*` is rejected with Istio's message; otherwise entries must be Kubernetes labels to ever match.
 */
export function selectorLabels() {
  return z.record(z.string(), z.string()).superRefine((m, ctx) => {
    const entries = Object.entries(m);
    if (entries.length > 4096) ctx.addIssue({ code: 'custom', message: `must have at most 4096 labels (got ${entries.length})`, input: m });
    for (const [k, v] of entries) {
      const problem = k === '' ? 'label keys must not be empty'
        : k.includes('*') || v.includes('*') ? `wildcards are not supported in selectors (got ${k}=${v})`
        : labelKeyProblem(k) ?? labelValueProblem(v);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: problem, input: v });
    }
  });
}

/** Free-form string map (annotations, metadata). */
export const stringMap = () => z.record(z.string(), z.string());

/**
 * `exportTo` as Istio defines it: `.` (this namespace), `*` (all), `~` (none) or namespace names.
 * `*` and `~` cannot be combined with other entries.
 */
export function exportTo() {
  return check(z.array(z.string()), (list) => {
    for (const v of list) {
      if (v !== '.' && v !== '*' && v !== '~' && dns1123LabelProblem(v) !== undefined) {
        return `entries must be ".", "*", "~" or a namespace name (got ${showValue(v)})`;
      }
    }
    const seen = new Set<string>();
    for (const v of list) {
      if (seen.has(v)) return `duplicate entry ${showValue(v)}`;
      seen.add(v);
    }
    if (list.length > 1 && list.includes('*')) return '"*" already exports to every namespace and cannot be combined with other entries';
    if (list.length > 1 && list.includes('~')) return '"~" (export nowhere) cannot be combined with other entries';
    return undefined;
  });
}

/** Arbitrary JSON (google.protobuf.Struct / Value fields). */
export const anyJson = () => z.unknown();
