/**
 * Which request headers each app copies from its incoming request to its outbound calls, so the
 * mesh can stitch one trace and route by user. The lists are Istio bookinfo's (productpage.py
 * `getForwardHeaders`, reviews' `headers_to_propagate`) plus single-header `b3`, which Istio's
 * productpage covers through its B3 propagator and weft's proxy may emit.
 * See https://istio.io/latest/docs/tasks/observability/distributed-tracing/overview/
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Trace context and request identity: every app forwards these. */
export const TRACE_HEADERS: readonly string[] = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  'x-ot-span-context',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
];

/** Context and session headers both productpage and reviews pass on. */
const SESSION_HEADERS: readonly string[] = ['user-agent', 'cookie', 'authorization', 'jwt'];

/**
 * productpage: trace and session headers. `end-user` is not copied from the request: productpage
 * sets it from its own session (Istio's does the same), so a client cannot claim to be jason.
 */
export const PRODUCTPAGE_FORWARD: readonly string[] = [...TRACE_HEADERS, ...SESSION_HEADERS];

/** reviews: as productpage, plus the `end-user` productpage set, which ratings routing keys on. */
export const REVIEWS_FORWARD: readonly string[] = [...TRACE_HEADERS, 'end-user', ...SESSION_HEADERS];

/** The headers named in `names` that `incoming` carries, as a plain object for `http.request`. */
export function pickHeaders(incoming: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = incoming[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
