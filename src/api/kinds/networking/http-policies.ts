/**
 * Per-route HTTP policies: `HTTPRetry`, `HTTPFaultInjection` (delay / abort), `CorsPolicy` and
 * `HTTPMirrorPolicy`.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 */
import * as z from 'zod';
import { atMostOne, obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { bool, int32, str } from '../../schema/primitives.ts';
import { parseDuration } from '../../schema/duration.ts';
import { showValue } from '../../errors.ts';
import { Destination } from './destination.ts';
import { StringMatch, stringMatchIssues } from './string-match.ts';
import { faultPercentProblem, mirrorPercentProblem, Percent, routeDuration } from './route-common.ts';

const q = showValue;

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on conditions. */
export const RETRY_ON_POLICIES = [
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
] as const;

/** The status codes Go's net/http names, which Istio accepts as retryOn entries. */
const KNOWN_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423,
  424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

function retryOnProblem(retryOn: string): string | undefined {
  const bad = retryOn.split(',').filter((p) => !(RETRY_ON_POLICIES as readonly string[]).includes(p) && !(/^\d+$/.test(p) && KNOWN_STATUS_CODES.has(Number(p))));
  if (bad.length === 0) return undefined;
  const spaced = bad.some((p) => p !== p.trim()) ? '; write the list without spaces' : '';
  return `${bad.map((p) => q(p)).join(', ')} ${bad.length === 1 ? 'is not a retry condition' : 'are not retry conditions'} (use HTTP status codes or ${RETRY_ON_POLICIES.join(', ')}${spaced})`;
}

export const HTTPRetry = rules(
  obj({
    attempts: int32().optional(),
    perTryTimeout: routeDuration().optional(),
    retryOn: str().optional(),
    retryRemoteLocalities: bool().nullable().optional(),
    retryIgnorePreviousHosts: bool().nullable().optional(),
    backoff: routeDuration().optional(),
  }),
  (r, report) => {
    const attempts = r.attempts ?? 0;
    if (attempts < 0) report({ path: ['attempts'], message: `attempts must not be negative (got ${attempts})` });
    const configured = [
      r.perTryTimeout !== undefined ? 'perTryTimeout' : '',
      r.retryOn ? 'retryOn' : '',
      r.retryRemoteLocalities !== undefined && r.retryRemoteLocalities !== null ? 'retryRemoteLocalities' : '',
    ].filter((f) => f !== '');
    if (attempts === 0 && configured.length > 0) {
      report({ path: ['attempts'], message: `attempts is 0, which disables retries, yet ${configured.join(', ')} ${configured.length === 1 ? 'is' : 'are'} set: set attempts to 1 or more` });
    }
    if (r.retryOn) {
      const p = retryOnProblem(r.retryOn);
      if (p !== undefined) report({ path: ['retryOn'], message: p });
    }
  },
);
export type HTTPRetry = z.output<typeof HTTPRetry>;

const Delay = rules(
  obj({
    percent: int32().optional(),
    percentage: Percent.optional(),
    fixedDelay: routeDuration().optional(),
    exponentialDelay: routeDuration().optional(),
  }),
  (d, report) => {
    atMostOne(d, ['fixedDelay', 'exponentialDelay'], report);
    if (d.exponentialDelay !== undefined) report({ path: ['exponentialDelay'], message: 'exponentialDelay is not supported yet: use fixedDelay' });
    else if (d.fixedDelay === undefined) report({ severity: 'warning', message: 'delay has no fixedDelay: no delay is injected' });
    percentRules(d, report);
  },
);

const GRPC_STATUS = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

const Abort = rules(
  obj({
    httpStatus: int32().optional(),
    grpcStatus: str().optional(),
    http2Error: str().optional(),
    percentage: Percent.optional(),
  }),
  (a, report) => {
    atMostOne(a, ['httpStatus', 'grpcStatus', 'http2Error'], report);
    if (a.httpStatus !== undefined && (a.httpStatus < 200 || a.httpStatus > 599)) {
      report({ path: ['httpStatus'], message: `HTTP status must be between 200 and 599 (got ${a.httpStatus})` });
    }
    if (a.grpcStatus !== undefined && !(GRPC_STATUS as readonly string[]).includes(a.grpcStatus)) {
      report({ path: ['grpcStatus'], message: `unknown gRPC status ${q(a.grpcStatus)} (use a code name such as NOT_FOUND or UNAVAILABLE)` });
    }
    if (a.http2Error !== undefined) report({ path: ['http2Error'], message: 'http2Error aborts are not supported yet: use httpStatus or grpcStatus' });
    if (a.httpStatus === undefined && a.grpcStatus === undefined && a.http2Error === undefined) {
      report({ severity: 'warning', message: 'abort has no httpStatus or grpcStatus: nothing is injected' });
    }
    percentRules(a, report);
  },
);

function percentRules(f: { percent?: number | undefined; percentage?: Percent | undefined }, report: (i: RuleIssue) => void): void {
  if (f.percentage !== undefined) {
    const p = faultPercentProblem(f.percentage);
    if (p !== undefined) report({ path: ['percentage', 'value'], message: p });
  }
  if (f.percent !== undefined) {
    if (f.percent < 0 || f.percent > 100) report({ path: ['percent'], message: `must be between 0 and 100 (got ${f.percent})` });
    report({ path: ['percent'], severity: 'warning', message: 'percent is deprecated: use percentage.value' });
  }
}

export const HTTPFaultInjection = rules(
  obj({ delay: Delay.optional(), abort: Abort.optional() }),
  (f, report) => {
    if (f.delay === undefined && f.abort === undefined) report({ message: 'fault injection must set delay, abort or both' });
  },
);
export type HTTPFaultInjection = z.output<typeof HTTPFaultInjection>;

const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*'];
const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;

function corsHeaderProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (name === '*' || TOKEN.test(name)) return undefined;
  return `is not a valid header name (got ${q(name)})`;
}

export const CorsPolicy = rules(
  obj({
    allowOrigins: z.array(StringMatch).optional(),
    allowOrigin: z.array(str()).optional(),
    allowMethods: z.array(str()).optional(),
    allowHeaders: z.array(str()).optional(),
    exposeHeaders: z.array(str()).optional(),
    maxAge: routeDuration().optional(),
    allowCredentials: bool().nullable().optional(),
    unmatchedPreflights: oneOf(['UNSPECIFIED', 'FORWARD', 'IGNORE']).optional(),
  }),
  (c, report) => corsRules(c, report),
);
export type CorsPolicy = z.output<typeof CorsPolicy>;

function corsRules(c: CorsPolicy, report: (i: RuleIssue) => void): void {
  (c.allowOrigins ?? []).forEach((o, i) => {
    const value = o.exact ?? o.prefix ?? o.regex;
    if (!value) report({ path: ['allowOrigins', i], message: 'origin matcher must set a non-empty exact, prefix or regex' });
    for (const issue of stringMatchIssues(o, false)) report({ path: ['allowOrigins', i, ...issue.path], message: issue.message });
  });
  if (c.allowOrigin !== undefined) report({ path: ['allowOrigin'], severity: 'warning', message: 'allowOrigin is deprecated: use allowOrigins with exact, prefix or regex matchers' });
  (c.allowMethods ?? []).forEach((m, i) => {
    if (!CORS_METHODS.includes(m)) report({ path: ['allowMethods', i], message: `${q(m)} is not a supported HTTP method (use ${CORS_METHODS.join(', ')})` });
  });
  for (const field of ['allowHeaders', 'exposeHeaders'] as const) {
    (c[field] ?? []).forEach((h, i) => {
      const p = corsHeaderProblem(h);
      if (p !== undefined) report({ path: [field, i], message: p });
    });
  }
  if (c.maxAge !== undefined) {
    const ms = parseDuration(c.maxAge);
    if (ms !== undefined && ms >= 1 && ms % 1000 !== 0) report({ path: ['maxAge'], message: `maxAge is sent in whole seconds: use a whole number of seconds (got ${q(c.maxAge)})` });
  }
}

export const HTTPMirrorPolicy = rules(
  obj({ destination: Destination, percentage: Percent.optional() }),
  (m, report) => {
    if (m.percentage === undefined) return;
    const p = mirrorPercentProblem(m.percentage.value);
    if (p !== undefined) report({ path: ['percentage', 'value'], message: p });
  },
);
export type HTTPMirrorPolicy = z.output<typeof HTTPMirrorPolicy>;
