/**
 * `config.route.v3.RetryPolicy`, compiled for the router: conditions (`retry_on`, HTTP and gRPC names;
 * unknown names are ignored, as Envoy's `parseRetryOn` does), number of retries (default 1), per-try
 * timeouts, back-off (default 25 ms base, 10× max), retriable status codes and headers, and the host
 * predicates / priority extensions Envoy ships, checked by type URL (an unknown one is an error).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-retrypolicy
 */
import { compileHeaderMatcher, type HeaderMatcher } from './matchers.ts';
import { anyTypeUrl, durationMs, enumName, field, has, headerName, isZeroDuration, list, num, obj, Problems, str, type Proto } from './proto.ts';

export interface RetryPolicy {
  /** Conditions from `retry_on` (`5xx`, `connect-failure`, `unavailable`…), as written. */
  readonly retryOn: ReadonlySet<string>;
  readonly numRetries: number;
  /** 0: no per-try timeout (the route timeout applies). */
  readonly perTryTimeoutMs: number;
  readonly perTryIdleTimeoutMs: number;
  readonly retriableStatusCodes: ReadonlySet<number>;
  /** Response headers that make a response retriable (`retriable-headers`). */
  readonly retriableHeaders: readonly HeaderMatcher[];
  /** Request headers a request must match to be retried at all. */
  readonly retriableRequestHeaders: readonly HeaderMatcher[];
  /** Host predicates by their extension name (`envoy.retry_host_predicates.previous_hosts`…). */
  readonly hostPredicates: readonly string[];
  /** `envoy.retry_priorities.previous_priorities` update frequency, when configured. */
  readonly previousPrioritiesUpdateFrequency: number | undefined;
  readonly hostSelectionMaxAttempts: number;
  readonly baseIntervalMs: number;
  readonly maxIntervalMs: number;
  /** `rate_limited_retry_back_off`: headers telling how long to wait, and the cap. */
  readonly rateLimitedBackOff: { readonly resetHeaders: readonly { readonly name: string; readonly format: string }[]; readonly maxIntervalMs: number } | undefined;
}

const HOST_PREDICATES: Readonly<Record<string, string>> = {
  'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate': 'envoy.retry_host_predicates.previous_hosts',
  'type.googleapis.com/envoy.extensions.retry.host.omit_canary_hosts.v3.OmitCanaryHostsPredicate': 'envoy.retry_host_predicates.omit_canary_hosts',
  'type.googleapis.com/envoy.extensions.retry.host.omit_host_metadata.v3.OmitHostMetadataConfig': 'envoy.retry_host_predicates.omit_host_metadata',
};
const PREVIOUS_PRIORITIES = 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';
const DEFAULT_BASE_INTERVAL_MS = 25;

export function compileRetryPolicy(v: unknown, path: string, problems: Problems): RetryPolicy {
  const p = obj(v) ?? {};
  const retryOn = new Set((str(p['retryOn']) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''));
  const backOff = compileBackOff(p, path, problems);
  const at = (k: string) => field(path, k);
  if (has(p, 'retryOptionsPredicates') && list(p['retryOptionsPredicates']).length > 0) problems.add(at('retryOptionsPredicates'), 'retry options predicates are not supported');
  return {
    retryOn,
    numRetries: num(p['numRetries']) ?? 1,
    perTryTimeoutMs: durationMs(p, 'perTryTimeout', path, problems) ?? 0,
    perTryIdleTimeoutMs: durationMs(p, 'perTryIdleTimeout', path, problems) ?? 0,
    retriableStatusCodes: new Set(list(p['retriableStatusCodes']).map((c) => num(c) ?? 0)),
    retriableHeaders: list(p['retriableHeaders']).map((h, i) => compileHeaderMatcher(h, field(at('retriableHeaders'), i), problems)),
    retriableRequestHeaders: list(p['retriableRequestHeaders']).map((h, i) => compileHeaderMatcher(h, field(at('retriableRequestHeaders'), i), problems)),
    hostPredicates: list(p['retryHostPredicate']).map((h, i) => hostPredicate(h, field(at('retryHostPredicate'), i), problems)),
    previousPrioritiesUpdateFrequency: retryPriority(p['retryPriority'], at('retryPriority'), problems),
    hostSelectionMaxAttempts: Math.max(1, num(p['hostSelectionRetryMaxAttempts']) ?? 1),
    ...backOff,
    rateLimitedBackOff: has(p, 'rateLimitedRetryBackOff') ? rateLimited(obj(p['rateLimitedRetryBackOff']) ?? {}, at('rateLimitedRetryBackOff'), problems) : undefined,
  };
}

function compileBackOff(p: Proto, path: string, problems: Problems): { baseIntervalMs: number; maxIntervalMs: number } {
  const b = obj(p['retryBackOff']);
  if (b === undefined) return { baseIntervalMs: DEFAULT_BASE_INTERVAL_MS, maxIntervalMs: DEFAULT_BASE_INTERVAL_MS * 10 };
  const at = field(path, 'retryBackOff');
  const base = durationMs(b, 'baseInterval', at, problems);
  if (base === undefined) problems.add(field(at, 'baseInterval'), 'required');
  else if (isZeroDuration(b['baseInterval'])) problems.add(field(at, 'baseInterval'), 'must be greater than 0');
  // Sub-millisecond intervals round up to 1 ms, as Envoy does.
  const baseMs = Math.max(1, base ?? DEFAULT_BASE_INTERVAL_MS);
  const max = durationMs(b, 'maxInterval', at, problems);
  if (max !== undefined && isZeroDuration(b['maxInterval'])) problems.add(field(at, 'maxInterval'), 'must be greater than 0');
  else if (max !== undefined && Math.max(1, max) < baseMs) problems.add(field(at, 'maxInterval'), `must be at least base_interval (${baseMs} ms)`);
  return { baseIntervalMs: baseMs, maxIntervalMs: max === undefined ? baseMs * 10 : Math.max(1, max) };
}

function hostPredicate(v: unknown, path: string, problems: Problems): string {
  const h = obj(v) ?? {};
  const typeUrl = anyTypeUrl(h['typedConfig']);
  const name = str(h['name']) ?? '';
  const known = typeUrl !== undefined ? HOST_PREDICATES[typeUrl] : Object.values(HOST_PREDICATES).find((n) => n === name);
  if (known === undefined) problems.add(path, `unknown retry host predicate ${JSON.stringify(typeUrl ?? name)}`);
  return known ?? name;
}

function retryPriority(v: unknown, path: string, problems: Problems): number | undefined {
  const p = obj(v);
  if (p === undefined) return undefined;
  const cfg = obj(p['typedConfig']);
  if (anyTypeUrl(cfg) !== PREVIOUS_PRIORITIES) {
    problems.add(path, `unknown retry priority ${JSON.stringify(anyTypeUrl(cfg) ?? str(p['name']) ?? '')}`);
    return undefined;
  }
  const frequency = num(cfg?.['updateFrequency']) ?? 0;
  if (frequency <= 0) problems.add(field(field(path, 'typedConfig'), 'updateFrequency'), 'must be greater than 0');
  return frequency;
}

function rateLimited(r: Proto, path: string, problems: Problems): RetryPolicy['rateLimitedBackOff'] {
  const headers = list(r['resetHeaders']);
  if (headers.length === 0) problems.add(field(path, 'resetHeaders'), 'at least one header required');
  const resetHeaders = headers.map((h, i) => {
    const at = field(field(path, 'resetHeaders'), i);
    const o = obj(h) ?? {};
    return { name: headerName(o['name'], field(at, 'name'), problems), format: enumName(o, 'format', ['SECONDS', 'UNIX_TIMESTAMP'], at, problems) };
  });
  // Envoy's default cap for rate-limited back-off is 300 s.
  return { resetHeaders, maxIntervalMs: Math.max(1, durationMs(r, 'maxInterval', path, problems) ?? 300_000) };
}
