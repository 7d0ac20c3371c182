/**
 * Envoy's fault injection filter (`envoy.filters.http.fault`, `…fault.v3.HTTPFault`, the same type per
 * route, where it replaces the filter-level config): a fixed delay (response flag DI) and then, or
 * instead, an abort with an HTTP or gRPC status (FI), each on a FractionalPercent of requests, limited to
 * an upstream cluster, request headers, downstream nodes and `max_active_faults`. Header-controlled
 * faults (`header_delay`, `header_abort`) read `x-envoy-fault-*` request headers.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/fault_filter
 */
import type { Counter, Gauge } from '../../core/stats.ts';
import { compileHeaderMatcher, headerMatches, type HeaderMatcher } from '../router/matchers.ts';
import { durationMs, field, fraction, fractionHits, has, list, num, obj, Problems, str, type Fraction, type Proto } from '../router/proto.ts';
import type { HttpFilter, HttpFilterFactory, Parsed } from '../filter.ts';
import { STOP } from '../filter.ts';
import type { FilterStream } from '../filter-stream.ts';
import { firstValue, joinedValue } from '../headers.ts';
import { FLAG } from '../stream-info.ts';

export const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

export interface FaultConfig {
  /** Fixed delay in ms, `'header'` for header_delay, or undefined for no delay. */
  readonly delay: number | 'header' | undefined;
  readonly delayPercent: Fraction;
  /** HTTP status, `'header'` for header_abort, or undefined. */
  readonly abortHttp: number | 'header' | undefined;
  readonly abortGrpc: number | undefined;
  readonly abortPercent: Fraction;
  readonly upstreamCluster: string;
  readonly headers: readonly HeaderMatcher[];
  readonly downstreamNodes: ReadonlySet<string>;
  readonly maxActiveFaults: number;
}

const HUNDRED: Fraction = { numerator: 100, denominator: 100 };

function parseDelay(d: Proto, path: string, problems: Problems): { delay: number | 'header' | undefined; percent: Fraction } {
  const percent = has(d, 'percentage') ? fraction(d['percentage'], field(path, 'percentage'), problems) : HUNDRED;
  if (has(d, 'headerDelay')) return { delay: 'header', percent };
  const ms = durationMs(d, 'fixedDelay', path, problems);
  if (ms === undefined) problems.add(path, 'one of fixedDelay, headerDelay is required');
  return { delay: ms, percent };
}

function parseAbort(a: Proto, path: string, problems: Problems): { http: number | 'header' | undefined; grpc: number | undefined; percent: Fraction } {
  const percent = has(a, 'percentage') ? fraction(a['percentage'], field(path, 'percentage'), problems) : HUNDRED;
  if (has(a, 'headerAbort')) return { http: 'header', grpc: undefined, percent };
  if (has(a, 'httpStatus')) {
    const status = num(a['httpStatus']) ?? 0;
    if (status < 200 || status >= 600) problems.add(field(path, 'httpStatus'), `must be in [200, 600) (got ${status})`);
    return { http: status, grpc: undefined, percent };
  }
  if (has(a, 'grpcStatus')) return { http: undefined, grpc: num(a['grpcStatus']) ?? 0, percent };
  problems.add(path, 'one of httpStatus, grpcStatus, headerAbort is required');
  return { http: undefined, grpc: undefined, percent };
}

export function parseFault(p: Proto, path: string): Parsed<FaultConfig> {
  const problems = new Problems();
  const delay = has(p, 'delay') ? parseDelay(obj(p['delay']) ?? {}, field(path, 'delay'), problems) : { delay: undefined, percent: HUNDRED };
  const abort = has(p, 'abort')
    ? parseAbort(obj(p['abort']) ?? {}, field(path, 'abort'), problems)
    : { http: undefined, grpc: undefined, percent: HUNDRED };
  if (has(p, 'responseRateLimit')) problems.add(field(path, 'responseRateLimit'), 'response rate limiting is not supported');
  const config: FaultConfig = {
    delay: delay.delay,
    delayPercent: delay.percent,
    abortHttp: abort.http,
    abortGrpc: abort.grpc,
    abortPercent: abort.percent,
    upstreamCluster: str(p['upstreamCluster']) ?? '',
    headers: list(p['headers']).map((h, i) => compileHeaderMatcher(h, field(field(path, 'headers'), i), problems)),
    downstreamNodes: new Set(list(p['downstreamNodes']).map((n) => str(n) ?? '')),
    maxActiveFaults: has(p, 'maxActiveFaults') ? (num(p['maxActiveFaults']) ?? Infinity) : Infinity,
  };
  return { config, problems: problems.list };
}

function hits(percent: Fraction, headerPercent: string | undefined): boolean {
  let f = percent;
  // x-envoy-fault-*-percentage lowers (never raises) the configured numerator, keeping its denominator.
  if (headerPercent !== undefined && /^\d+$/.test(headerPercent)) f = { numerator: Math.min(Number(headerPercent), percent.numerator), denominator: percent.denominator };
  if (f.numerator >= f.denominator) return true;
  return fractionHits(f, Math.floor(Math.random() * 4_294_967_296));
}

/** Whether the fault applies to this request at all (cluster, downstream node, headers). */
export function faultApplies(c: FaultConfig, stream: FilterStream): boolean {
  if (c.upstreamCluster !== '' && stream.routeCluster() !== c.upstreamCluster) return false;
  if (c.downstreamNodes.size > 0) {
    const node = firstValue(stream.request.headers, 'x-envoy-downstream-service-node');
    if (node === undefined || !c.downstreamNodes.has(node)) return false;
  }
  for (const m of c.headers) {
    if (!headerMatches(m, joinedValue(stream.request.headers, m.name))) return false;
  }
  return true;
}

/** The delay to inject in ms (0 for none). */
export function delayFor(c: FaultConfig, stream: FilterStream): number {
  if (c.delay === undefined) return 0;
  if (!hits(c.delayPercent, firstValue(stream.request.headers, 'x-envoy-fault-delay-request-percentage'))) return 0;
  if (c.delay !== 'header') return c.delay;
  const v = firstValue(stream.request.headers, 'x-envoy-fault-delay-request');
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
}

/** The abort to inject, or undefined. gRPC aborts answer HTTP 200 with the gRPC status, as Envoy does. */
export function abortFor(c: FaultConfig, stream: FilterStream): { status: number; grpcStatus: number | undefined } | undefined {
  if (c.abortHttp === undefined && c.abortGrpc === undefined) return undefined;
  if (!hits(c.abortPercent, firstValue(stream.request.headers, 'x-envoy-fault-abort-request-percentage'))) return undefined;
  if (c.abortHttp === 'header') {
    const h = num(firstValue(stream.request.headers, 'x-envoy-fault-abort-request'));
    if (h !== undefined && h >= 200 && h < 600) return { status: h, grpcStatus: undefined };
    const g = num(firstValue(stream.request.headers, 'x-envoy-fault-abort-grpc-request'));
    return g !== undefined && g >= 0 ? { status: 200, grpcStatus: g } : undefined;
  }
  if (c.abortHttp !== undefined) return { status: c.abortHttp, grpcStatus: undefined };
  return { status: 200, grpcStatus: c.abortGrpc };
}

interface FaultStats {
  readonly delays: Counter;
  readonly aborts: Counter;
  readonly overflow: Counter;
  readonly active: Gauge;
}

class FaultFilter implements HttpFilter {
  readonly #global: FaultConfig;
  readonly #name: string;
  readonly #stats: FaultStats;
  #active = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: ((r: typeof STOP) => void) | undefined;

  constructor(global: FaultConfig, name: string, stats: FaultStats) {
    this.#global = global;
    this.#name = name;
    this.#stats = stats;
  }

  decodeHeaders(stream: FilterStream): typeof STOP | Promise<typeof STOP | undefined> | undefined {
    const c = stream.perRouteConfig<FaultConfig>(this.#name) ?? this.#global;
    if (c.delay === undefined && c.abortHttp === undefined && c.abortGrpc === undefined) return undefined;
    if (this.#stats.active.value >= c.maxActiveFaults) {
      this.#stats.overflow.value++;
      return undefined;
    }
    if (!faultApplies(c, stream)) return undefined;
    const delay = delayFor(c, stream);
    if (delay > 0) {
      this.#activate();
      this.#stats.delays.value++;
      stream.info.setFlag(FLAG.DI);
      return new Promise((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#wake = undefined;
          resolve(stream.done ? STOP : this.#maybeAbort(c, stream));
        }, delay);
      });
    }
    return this.#maybeAbort(c, stream);
  }

  #maybeAbort(c: FaultConfig, stream: FilterStream): typeof STOP | undefined {
    const abort = abortFor(c, stream);
    if (abort === undefined) return undefined;
    this.#activate();
    this.#stats.aborts.value++;
    stream.sendLocalReply({
      status: abort.status,
      flags: FLAG.FI,
      details: 'fault_filter_abort',
      cause: 'fault filter abort',
      ...(abort.grpcStatus !== undefined ? { grpcStatus: abort.grpcStatus } : {}),
    });
    return STOP;
  }

  #activate(): void {
    if (this.#active) return;
    this.#active = true;
    this.#stats.active.value++;
  }

  onDestroy(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wake?.(STOP);
    this.#wake = undefined;
    if (this.#active) this.#stats.active.value--;
    this.#active = false;
  }
}

export const faultFilterFactory: HttpFilterFactory<FaultConfig, FaultConfig> = {
  typeUrl: FAULT_TYPE,
  perRouteTypeUrls: [FAULT_TYPE],
  parse: (config, path) => parseFault(config, path),
  parsePerRoute: (config, path) => parseFault(config, path),
  prepare(config, ctx) {
    const p = `${ctx.statPrefix}fault.`;
    const stats: FaultStats = {
      delays: ctx.stats.counter(`${p}delays_injected`),
      aborts: ctx.stats.counter(`${p}aborts_injected`),
      overflow: ctx.stats.counter(`${p}faults_overflow`),
      active: ctx.stats.gauge(`${p}active_faults`),
    };
    return () => new FaultFilter(config, ctx.name, stats);
  },
};
