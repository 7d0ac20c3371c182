/**
 * The timeouts of one routed request, as Envoy's FilterUtility::finalTimeout: the route timeout (15 s
 * unless the route says otherwise; 0 disables it), replaced for gRPC requests by the `grpc-timeout`
 * header when the route caps it (`max_stream_duration.grpc_timeout_header_max` or the deprecated
 * `max_grpc_timeout`, 0 meaning no cap), then by `x-envoy-upstream-rq-timeout-ms`; the per-try timeout
 * from the retry policy or `x-envoy-upstream-rq-per-try-timeout-ms`, ignored when not shorter than the
 * route timeout.
 */
import { firstValue, type HeaderMap } from './headers.ts';
import type { RetryPolicy } from './router/retry-policy.ts';
import type { Timeouts } from './router/types.ts';

export interface CallTimeouts {
  /** 0: none. */
  readonly globalMs: number;
  readonly perTryMs: number;
}

const GRPC_UNITS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** A `grpc-timeout` header value (`100m`, `5S`…) in ms, rounded up; undefined when malformed. */
export function parseGrpcTimeout(v: string | undefined): number | undefined {
  if (v === undefined || v.length < 2 || v.length > 9) return undefined;
  const unit = GRPC_UNITS[v[v.length - 1]!];
  const digits = v.slice(0, -1);
  if (unit === undefined || !/^\d+$/.test(digits)) return undefined;
  return Math.ceil(Number(digits) * unit);
}

function headerMs(headers: HeaderMap, name: string): number | undefined {
  const v = firstValue(headers, name);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export function computeTimeouts(t: Timeouts, retry: RetryPolicy | undefined, headers: HeaderMap, grpc: boolean): CallTimeouts {
  let globalMs = t.routeMs;
  const grpcMax = t.grpcTimeoutHeaderMaxMs ?? t.maxGrpcTimeoutMs;
  if (grpc && grpcMax !== undefined) {
    let g = parseGrpcTimeout(firstValue(headers, 'grpc-timeout')) ?? 0;
    const offset = t.grpcTimeoutHeaderOffsetMs ?? t.grpcTimeoutOffsetMs ?? 0;
    if (g > 0 && offset > 0) g = offset < g ? g - offset : g;
    if (grpcMax !== 0 && (g === 0 || g > grpcMax)) g = grpcMax;
    globalMs = g;
  }
  globalMs = headerMs(headers, 'x-envoy-upstream-rq-timeout-ms') ?? globalMs;
  let perTryMs = headerMs(headers, 'x-envoy-upstream-rq-per-try-timeout-ms') ?? retry?.perTryTimeoutMs ?? 0;
  if (globalMs > 0 && perTryMs >= globalMs) perTryMs = 0;
  return { globalMs, perTryMs };
}
