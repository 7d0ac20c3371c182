/**
 * VirtualService `retries` → Envoy `RetryPolicy`, as Istio's `retry.ConvertPolicy`
 * (istio/istio pilot/pkg/networking/core/route/retry/retry.go): no policy → Istio's default (2 retries
 * on connect-failure, refused-stream and the gRPC `unavailable`/`cancelled`, trying other hosts first);
 * `attempts: 0` → no retries; otherwise the default with the user's overrides.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-retrypolicy
 */
import type { SpecOf } from '../../../api/index.ts';
import { protoDuration } from './envoy-values.ts';

type HTTPRetry = NonNullable<NonNullable<SpecOf<'VirtualService'>['http']>[number]['retries']>;

/** Istio's default conditions: both HTTP (`connect-failure`, `refused-stream`) and gRPC names. */
export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

const PREVIOUS_HOSTS = {
  name: 'envoy.retry_host_predicates.previous_hosts',
  typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' },
};

// Istio's retryRemoteLocalities: lower the priority of localities already tried, re-evaluated every 2 attempts.
const PREVIOUS_PRIORITIES = {
  name: 'envoy.retry_priorities.previous_priorities',
  typedConfig: {
    '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
    updateFrequency: 2,
  },
};

// The codes Go's net/http names (http.StatusText): Istio reads only these in retryOn as status codes.
const KNOWN_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423,
  424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/**
 * Istio's default policy. With consistent-hash load balancing the previous-hosts predicate is left out:
 * a retry must stay on the hashed host.
 */
export function defaultRetryPolicy(consistentHash = false): Record<string, unknown> {
  const out: Record<string, unknown> = {
    retryOn: DEFAULT_RETRY_ON,
    numRetries: { value: 2 },
    hostSelectionRetryMaxAttempts: 5,
  };
  if (!consistentHash) out['retryHostPredicate'] = [PREVIOUS_HOSTS];
  return out;
}

/** Splits `retryOn` into Envoy conditions and retriable status codes (numbers Go knows as statuses). */
export function parseRetryOn(retryOn: string): { retryOn: string; codes: number[] } {
  const codes: number[] = [];
  const conditions: string[] = [];
  for (const raw of retryOn.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const n = /^[+-]?\d+$/.test(part) ? Number(part) : NaN;
    if (KNOWN_STATUS_CODES.has(n)) codes.push(n);
    else conditions.push(part);
  }
  // Status codes only count when Envoy is told to retry on them.
  if (codes.length > 0 && !conditions.some((c) => c.includes('retriable-status-codes'))) conditions.push('retriable-status-codes');
  return { retryOn: conditions.join(','), codes };
}

/** The Envoy retry policy for `retries`, or undefined when retries are disabled (`attempts` ≤ 0). */
export function retryPolicy(retries: HTTPRetry | undefined, consistentHash = false): Record<string, unknown> | undefined {
  const out = defaultRetryPolicy(consistentHash);
  if (retries === undefined) return out;
  const attempts = retries.attempts ?? 0;
  if (attempts <= 0) return undefined;
  out['numRetries'] = { value: attempts };
  if (retries.retryOn) {
    const parsed = parseRetryOn(retries.retryOn);
    out['retryOn'] = parsed.retryOn;
    if (parsed.codes.length > 0) out['retriableStatusCodes'] = parsed.codes;
  }
  if (retries.perTryTimeout !== undefined) out['perTryTimeout'] = protoDuration(retries.perTryTimeout);
  if (retries.retryIgnorePreviousHosts !== undefined && retries.retryIgnorePreviousHosts !== null) {
    if (retries.retryIgnorePreviousHosts) out['retryHostPredicate'] = [PREVIOUS_HOSTS];
    else delete out['retryHostPredicate'];
  }
  if (retries.retryRemoteLocalities === true) out['retryPriority'] = PREVIOUS_PRIORITIES;
  if (retries.backoff !== undefined) out['retryBackOff'] = { baseInterval: protoDuration(retries.backoff) };
  return out;
}
