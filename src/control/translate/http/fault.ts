/**
 * VirtualService `fault` → the per-route config of Envoy's HTTP fault filter (`envoy.filters.http.fault`
 * → `envoy.extensions.filters.http.fault.v3.HTTPFault`), as Istio's `TranslateFault`: a fixed delay and
 * an HTTP or gRPC abort, each on a share of requests. Istio's percentages are doubles (per million in
 * Envoy); the deprecated integer `delay.percent` is per hundred. An unset share injects nothing.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/fault_filter
 */
import type { SpecOf } from '../../../api/index.ts';
import { percentPerHundred, percentPerMillion, protoDuration } from './envoy-values.ts';
import { GrpcStatus } from '../../../xds/grpc-status.ts';

type HTTPFaultInjection = NonNullable<NonNullable<SpecOf<'VirtualService'>['http']>[number]['fault']>;

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const HTTP_FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

function delay(d: NonNullable<HTTPFaultInjection['delay']>): Record<string, unknown> | undefined {
  // Only fixed delays exist in Envoy; validation rejects exponentialDelay, and Istio drops it.
  if (d.fixedDelay === undefined) return undefined;
  return {
    fixedDelay: protoDuration(d.fixedDelay),
    percentage: d.percentage !== undefined ? percentPerMillion(d.percentage.value) : percentPerHundred(d.percent ?? 0),
  };
}

function abort(a: NonNullable<HTTPFaultInjection['abort']>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (a.httpStatus !== undefined) out['httpStatus'] = a.httpStatus;
  else if (a.grpcStatus !== undefined && Object.hasOwn(GrpcStatus, a.grpcStatus)) out['grpcStatus'] = GrpcStatus[a.grpcStatus as keyof typeof GrpcStatus];
  else return undefined;
  if (a.percentage !== undefined) out['percentage'] = percentPerMillion(a.percentage.value);
  return out;
}

/** The HTTPFault Any for a route, or undefined when nothing would be injected. */
export function translateFault(f: HTTPFaultInjection): Record<string, unknown> | undefined {
  const d = f.delay === undefined ? undefined : delay(f.delay);
  const a = f.abort === undefined ? undefined : abort(f.abort);
  if (d === undefined && a === undefined) return undefined;
  const out: Record<string, unknown> = { '@type': HTTP_FAULT_TYPE };
  if (d !== undefined) out['delay'] = d;
  if (a !== undefined) out['abort'] = a;
  return out;
}
