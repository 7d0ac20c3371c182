/**
 * One request's retry state, as Envoy's RetryStateImpl: the route's retry policy merged with the
 * `x-envoy-retry-on` / `x-envoy-retry-grpc-on` / `x-envoy-max-retries` / `x-envoy-retriable-*` request
 * headers, the decision whether a response or a reset is retriable, the remaining budget, and fully
 * jittered exponential back-off (`random(0, (2^n − 1) × base)`, capped at the max interval).
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RetryPolicy } from './router/retry-policy.ts';
import { headerMatches, type HeaderMatcher } from './router/matchers.ts';
import type { RequestHead } from './filter-stream.ts';
import { firstValue, joinedValue, type HeaderMap } from './headers.ts';
import { memoized } from '../../util/memo.ts';

const ON = {
  '5xx': 1 << 0,
  'gateway-error': 1 << 1,
  'connect-failure': 1 << 2,
  'retriable-4xx': 1 << 3,
  'refused-stream': 1 << 4,
  'retriable-status-codes': 1 << 5,
  'retriable-headers': 1 << 6,
  reset: 1 << 7,
  'reset-before-request': 1 << 8,
  'envoy-ratelimited': 1 << 9,
  cancelled: 1 << 10,
  'deadline-exceeded': 1 << 11,
  internal: 1 << 12,
  'resource-exhausted': 1 << 13,
  unavailable: 1 << 14,
} as const;

const GRPC_BITS: readonly [number, number][] = [[ON.cancelled, 1], [ON['deadline-exceeded'], 4], [ON['resource-exhausted'], 8], [ON.internal, 13], [ON.unavailable, 14]];

/**
 * Why an attempt failed without a usable response. `protocol-error`: the request could not be encoded
 * for the upstream (a header or target a rewrite or formatter made unsendable): every try would fail alike.
 * `upstream-protocol-error`: the upstream's response could not be read; retried as a reset, as Envoy
 * retries StreamResetReason::ProtocolError under `reset`, `5xx` and `gateway-error`.
 */
export type ResetKind = 'connect-failure' | 'reset' | 'refused-stream' | 'timeout' | 'overflow' | 'protocol-error' | 'upstream-protocol-error';

function bits(names: Iterable<string>): number {
  let b = 0;
  for (const raw of names) {
    const n = raw.trim() as keyof typeof ON;
    if (n in ON) b |= ON[n];
  }
  return b;
}

/** A route's conditions as bits, computed once per compiled policy (policies live as long as their route configuration). */
const policyBits = new WeakMap<RetryPolicy, number>();
const policyBitsOf = (policy: RetryPolicy): number => bits(policy.retryOn);
const bitsOf = (policy: RetryPolicy): number => memoized(policyBits, policy, policyBitsOf);

/** Conditions a request adds with `x-envoy-retry-on` / `x-envoy-retry-grpc-on` (0 without them, the usual case). */
function headerBits(headers: HeaderMap): number {
  const http = joinedValue(headers, 'x-envoy-retry-on');
  const grpc = joinedValue(headers, 'x-envoy-retry-grpc-on');
  if (http === undefined && grpc === undefined) return 0;
  return bits([...(http ?? '').split(','), ...(grpc ?? '').split(',')]);
}

const DEFAULT_BASE_MS = 25;
const NO_CODES: ReadonlySet<number> = new Set();
const NO_NAMES: readonly string[] = [];

export class RetryState {
  readonly #on: number;
  readonly #policy: RetryPolicy | undefined;
  readonly #extraCodes: ReadonlySet<number>;
  readonly #extraHeaders: readonly string[];
  #remaining: number;
  #backoffStep = 1;

  private constructor(on: number, retries: number, policy: RetryPolicy | undefined, headers: HeaderMap) {
    this.#on = on;
    this.#remaining = retries;
    this.#policy = policy;
    const codes = joinedValue(headers, 'x-envoy-retriable-status-codes');
    this.#extraCodes = codes === undefined ? NO_CODES : new Set(codes.split(',').map((c) => Number(c.trim())).filter((c) => Number.isInteger(c)));
    const names = joinedValue(headers, 'x-envoy-retriable-header-names');
    this.#extraHeaders = names === undefined ? NO_NAMES : names.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  }

  /** The retry state for a request, or undefined when it can never be retried. */
  static create(policy: RetryPolicy | undefined, request: Pick<RequestHead, 'method' | 'authority' | 'path' | 'scheme' | 'headers'>): RetryState | undefined {
    const headers = request.headers;
    const on = (policy === undefined ? 0 : bitsOf(policy)) | headerBits(headers);
    if (on === 0) return undefined;
    if (policy !== undefined) {
      for (const m of policy.retriableRequestHeaders) {
        if (!headerMatches(m, requestValue(m, request))) return undefined;
      }
    }
    const maxHeader = firstValue(headers, 'x-envoy-max-retries');
    const retries = maxHeader !== undefined && /^\d+$/.test(maxHeader) ? Number(maxHeader) : (policy?.numRetries ?? 1);
    return retries > 0 ? new RetryState(on, retries, policy, headers) : undefined;
  }

  get remaining(): number {
    return this.#remaining;
  }

  /** Whether hosts already tried should be avoided (previous_hosts predicate). */
  get avoidPreviousHosts(): boolean {
    return this.#policy?.hostPredicates.includes('envoy.retry_host_predicates.previous_hosts') ?? false;
  }

  get perTryTimeoutMs(): number {
    return this.#policy?.perTryTimeoutMs ?? 0;
  }

  /** Envoy's wouldRetryFromHeaders. */
  retriableResponse(status: number, headers: IncomingHttpHeaders): boolean {
    if (headers['x-envoy-overloaded'] !== undefined) return false;
    const on = this.#on;
    if ((on & ON['5xx']) !== 0 && status >= 500) return true;
    if ((on & ON['gateway-error']) !== 0 && (status === 502 || status === 503 || status === 504)) return true;
    if ((on & ON['retriable-4xx']) !== 0 && status === 409) return true;
    if ((on & ON['retriable-status-codes']) !== 0 && (this.#policy?.retriableStatusCodes.has(status) === true || this.#extraCodes.has(status))) return true;
    if ((on & ON['retriable-headers']) !== 0 && this.#headersRetriable(headers)) return true;
    if ((on & ON['envoy-ratelimited']) !== 0 && headers['x-envoy-ratelimited'] !== undefined) return true;
    if ((on & (ON.cancelled | ON['deadline-exceeded'] | ON.internal | ON['resource-exhausted'] | ON.unavailable)) !== 0) {
      const g = firstValue(headers as HeaderMap, 'grpc-status');
      if (g !== undefined) {
        const code = Number(g);
        for (const [bit, grpc] of GRPC_BITS) if ((on & bit) !== 0 && code === grpc) return true;
      }
    }
    return false;
  }

  #headersRetriable(headers: IncomingHttpHeaders): boolean {
    for (const m of this.#policy?.retriableHeaders ?? []) {
      if (headerMatches(m, joinedValue(headers as HeaderMap, m.name))) return true;
    }
    for (const name of this.#extraHeaders) if (headers[name] !== undefined) return true;
    return false;
  }

  /** Envoy's wouldRetryFromReset; `sent` is whether the request reached the upstream at all. */
  retriableReset(kind: ResetKind, sent: boolean): boolean {
    const on = this.#on;
    if (kind === 'overflow' || kind === 'protocol-error') return false;
    if ((on & ON['reset-before-request']) !== 0 && !sent) return true;
    if ((on & (ON['5xx'] | ON['gateway-error'] | ON.reset)) !== 0) return true;
    if ((on & ON['refused-stream']) !== 0 && kind === 'refused-stream') return true;
    return (on & ON['connect-failure']) !== 0 && kind === 'connect-failure';
  }

  /** Takes one retry from the budget; false when exhausted. */
  consume(): boolean {
    if (this.#remaining <= 0) return false;
    this.#remaining--;
    return true;
  }

  /** The next back-off delay in ms (fully jittered exponential). */
  nextBackoffMs(random: () => number = Math.random): number {
    const base = this.#policy?.baseIntervalMs ?? DEFAULT_BASE_MS;
    const max = this.#policy?.maxIntervalMs ?? base * 10;
    const ceiling = ((1 << this.#backoffStep) - 1) * base;
    if (ceiling <= max) this.#backoffStep++;
    return Math.min(Math.floor(random() * ceiling), max);
  }
}

function requestValue(m: HeaderMatcher, r: Pick<RequestHead, 'method' | 'authority' | 'path' | 'scheme' | 'headers'>): string | undefined {
  switch (m.source) {
    case ':method': return r.method;
    case ':authority': return r.authority;
    case ':path': return r.path;
    case ':scheme': return r.scheme;
    default: return joinedValue(r.headers, m.name);
  }
}

/** The `x-envoy-*` request headers the router consumes (never forwarded upstream). */
export const CONSUMED_REQUEST_HEADERS: readonly string[] = [
  'x-envoy-retry-on', 'x-envoy-retry-grpc-on', 'x-envoy-max-retries', 'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names', 'x-envoy-upstream-rq-timeout-ms', 'x-envoy-upstream-rq-per-try-timeout-ms',
];
