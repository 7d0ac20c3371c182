/**
 * Envoy's CORS filter (`envoy.filters.http.cors`, config `…cors.v3.Cors`, per route `…cors.v3.CorsPolicy`):
 * answers preflights (OPTIONS with Origin and Access-Control-Request-Method) for allowed origins, and adds
 * Access-Control-Allow-Origin / -Credentials / -Expose-Headers to responses of allowed cross-origin
 * requests. Without a policy on the route the filter does nothing.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/cors_filter
 */
import type { Counter } from '../../core/stats.ts';
import { compileStringMatcher, type StringTest } from '../router/matchers.ts';
import { bool, field, fraction, fractionHits, has, list, obj, Problems, str, type Fraction, type Proto } from '../router/proto.ts';
import type { HttpFilter, HttpFilterFactory, Parsed } from '../filter.ts';
import { STOP } from '../filter.ts';
import type { FilterStream, ResponseHead } from '../filter-stream.ts';
import { firstValue } from '../headers.ts';

export const CORS_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors';
export const CORS_POLICY_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

export interface CorsPolicy {
  readonly origins: readonly StringTest[];
  readonly allowMethods: string | undefined;
  readonly allowHeaders: string | undefined;
  readonly exposeHeaders: string | undefined;
  readonly maxAge: string | undefined;
  readonly allowCredentials: boolean;
  readonly allowPrivateNetworkAccess: boolean;
  /** Preflights from origins the policy does not allow go upstream (true) or get an empty 200 (false). */
  readonly forwardNotMatchingPreflights: boolean;
  readonly enabled: Fraction;
}

const ALWAYS: Fraction = { numerator: 100, denominator: 100 };

export function parseCorsPolicy(p: Proto, path: string): Parsed<CorsPolicy> {
  const problems = new Problems();
  const origins = list(p['allowOriginStringMatch']).map((m, i) => compileStringMatcher(m, field(field(path, 'allowOriginStringMatch'), i), problems));
  const maxAge = str(p['maxAge']);
  if (maxAge !== undefined && maxAge !== '' && !/^\d+$/.test(maxAge)) problems.add(field(path, 'maxAge'), `must be a number of seconds (got ${JSON.stringify(maxAge)})`);
  const enabled = has(p, 'filterEnabled')
    ? fraction(obj(p['filterEnabled'])?.['defaultValue'], field(field(path, 'filterEnabled'), 'defaultValue'), problems)
    : has(p, 'shadowEnabled') ? { numerator: 0, denominator: 100 } : ALWAYS;
  const config: CorsPolicy = {
    origins,
    allowMethods: str(p['allowMethods']) || undefined,
    allowHeaders: str(p['allowHeaders']) || undefined,
    exposeHeaders: str(p['exposeHeaders']) || undefined,
    maxAge: maxAge || undefined,
    allowCredentials: bool(p['allowCredentials']),
    allowPrivateNetworkAccess: bool(p['allowPrivateNetworkAccess']),
    forwardNotMatchingPreflights: bool(p['forwardNotMatchingPreflights'], true),
    enabled,
  };
  return { config, problems: problems.list };
}

/** Whether `origin` is allowed; an exact `*` matcher allows every origin, as in Envoy. */
export function originAllowed(policy: CorsPolicy, origin: string): boolean {
  for (const test of policy.origins) {
    if (test('*') || test(origin)) return true;
  }
  return false;
}

export function isPreflight(method: string, headers: FilterStream['request']['headers']): boolean {
  if (method !== 'OPTIONS') return false;
  const m = firstValue(headers, 'access-control-request-method');
  return m !== undefined && m !== '';
}

/** The headers of a preflight answer for an allowed origin. */
export function preflightHeaders(policy: CorsPolicy, origin: string, requestPrivateNetwork: boolean): Record<string, string> {
  const h: Record<string, string> = { 'access-control-allow-origin': origin };
  if (policy.allowCredentials) h['access-control-allow-credentials'] = 'true';
  if (policy.allowMethods !== undefined) h['access-control-allow-methods'] = policy.allowMethods;
  if (policy.allowHeaders !== undefined) h['access-control-allow-headers'] = policy.allowHeaders;
  if (policy.maxAge !== undefined) h['access-control-max-age'] = policy.maxAge;
  if (policy.allowPrivateNetworkAccess && requestPrivateNetwork) h['access-control-allow-private-network'] = 'true';
  return h;
}

interface CorsStats {
  readonly originValid: Counter;
  readonly originInvalid: Counter;
}

class CorsFilter implements HttpFilter {
  readonly #name: string;
  readonly #stats: CorsStats;
  #origin: string | undefined;
  #policy: CorsPolicy | undefined;

  constructor(name: string, stats: CorsStats) {
    this.#name = name;
    this.#stats = stats;
  }

  decodeHeaders(stream: FilterStream): typeof STOP | undefined {
    const policy = stream.perRouteConfig<CorsPolicy>(this.#name);
    if (policy === undefined) return undefined;
    if (policy.enabled !== ALWAYS && !fractionHits(policy.enabled, Math.floor(Math.random() * 1_000_000))) return undefined;
    const origin = firstValue(stream.request.headers, 'origin');
    if (origin === undefined || origin === '') return undefined;
    const allowed = originAllowed(policy, origin);
    (allowed ? this.#stats.originValid : this.#stats.originInvalid).value++;
    const preflight = isPreflight(stream.request.method, stream.request.headers);
    if (!preflight) {
      if (allowed) {
        this.#origin = origin;
        this.#policy = policy;
      }
      return undefined;
    }
    if (!allowed) {
      if (policy.forwardNotMatchingPreflights) return undefined;
      stream.sendLocalReply({ status: 200, flags: 0, details: 'cors_preflight_origin_not_allowed' });
      return STOP;
    }
    const pna = firstValue(stream.request.headers, 'access-control-request-private-network') === 'true';
    stream.sendLocalReply({ status: 200, flags: 0, details: 'cors_preflight', headers: preflightHeaders(policy, origin, pna) });
    return STOP;
  }

  encodeHeaders(_stream: FilterStream, head: ResponseHead): void {
    const policy = this.#policy;
    const origin = this.#origin;
    if (policy === undefined || origin === undefined) return;
    head.headers['access-control-allow-origin'] = origin;
    if (policy.allowCredentials) head.headers['access-control-allow-credentials'] = 'true';
    if (policy.exposeHeaders !== undefined) head.headers['access-control-expose-headers'] = policy.exposeHeaders;
  }
}

/** The filter's own config (`…cors.v3.Cors`) holds nothing weft reads; policies come per route. */
export const corsFilterFactory: HttpFilterFactory<null, CorsPolicy> = {
  typeUrl: CORS_TYPE,
  perRouteTypeUrls: [CORS_POLICY_TYPE],
  parse: () => ({ config: null, problems: [] }),
  parsePerRoute: (config, path) => parseCorsPolicy(config, path),
  prepare(_config, ctx) {
    const stats: CorsStats = {
      originValid: ctx.stats.counter(`${ctx.statPrefix}cors.origin_valid`),
      originInvalid: ctx.stats.counter(`${ctx.statPrefix}cors.origin_invalid`),
    };
    return () => new CorsFilter(ctx.name, stats);
  },
};
