/**
 * VirtualService `corsPolicy` → the per-route config of Envoy's CORS filter (`envoy.filters.http.cors`
 * → `envoy.extensions.filters.http.cors.v3.CorsPolicy`), as Istio's `TranslateCORSPolicy`: origins as
 * string matchers (the deprecated `allowOrigin` as exact ones), lists joined with commas, `maxAge` in
 * whole seconds, always enabled, and unmatched preflights forwarded unless `unmatchedPreflights: IGNORE`.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/cors/v3/cors.proto
 */
import type { SpecOf } from '../../../api/index.ts';
import { goDurationNanos, stringMatcher } from './envoy-values.ts';

type CorsPolicy = NonNullable<NonNullable<SpecOf<'VirtualService'>['http']>[number]['corsPolicy']>;

export const CORS_FILTER = 'envoy.filters.http.cors';
export const CORS_POLICY_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

function origins(c: CorsPolicy): Record<string, unknown>[] | undefined {
  if (c.allowOrigins !== undefined) {
    return c.allowOrigins.map(stringMatcher).filter((m): m is Record<string, unknown> => m !== undefined);
  }
  if (c.allowOrigin !== undefined) return c.allowOrigin.map((exact) => ({ exact }));
  return undefined;
}

export function translateCors(c: CorsPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '@type': CORS_POLICY_TYPE,
    filterEnabled: { defaultValue: { numerator: 100, denominator: 'HUNDRED' } },
    // Before Envoy 1.30 unmatched preflights were always forwarded; Istio keeps that unless told to IGNORE.
    forwardNotMatchingPreflights: { value: c.unmatchedPreflights !== 'IGNORE' },
  };
  const allowed = origins(c);
  if (allowed !== undefined && allowed.length > 0) out['allowOriginStringMatch'] = allowed;
  if (c.allowMethods !== undefined && c.allowMethods.length > 0) out['allowMethods'] = c.allowMethods.join(',');
  if (c.allowHeaders !== undefined && c.allowHeaders.length > 0) out['allowHeaders'] = c.allowHeaders.join(',');
  if (c.exposeHeaders !== undefined && c.exposeHeaders.length > 0) out['exposeHeaders'] = c.exposeHeaders.join(',');
  if (c.maxAge !== undefined) out['maxAge'] = String(Math.floor((goDurationNanos(c.maxAge) ?? 0) / 1e9));
  if (c.allowCredentials !== undefined && c.allowCredentials !== null) out['allowCredentials'] = { value: c.allowCredentials };
  return out;
}
