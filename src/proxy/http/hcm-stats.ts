/**
 * The connection manager's counters and gauges (`http.<stat_prefix>.*`, Envoy's names), looked up once
 * per HCM config so the per-request path only increments fields.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/stats
 */
import { http2Counters, type SessionCounters } from '../codec/http2/session.ts';
import type { Counter, Gauge, Stats } from '../core/stats.ts';

export class HcmStats {
  readonly prefix: string;
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly cxHttp1Total: Counter;
  readonly cxHttp2Total: Counter;
  readonly cxHttp1Active: Gauge;
  readonly cxHttp2Active: Gauge;
  readonly cxProtocolError: Counter;
  readonly cxIdleTimeout: Counter;
  readonly cxMaxDurationReached: Counter;
  readonly rqTotal: Counter;
  readonly rqActive: Gauge;
  readonly rqHttp1Total: Counter;
  readonly rqHttp2Total: Counter;
  /** `downstream_rq_1xx` … `downstream_rq_5xx` at index 1…5. */
  readonly rqByClass: readonly Counter[];
  readonly rqCompleted: Counter;
  readonly rqRxReset: Counter;
  readonly rqTxReset: Counter;
  readonly rqIdleTimeout: Counter;
  readonly rqHeaderTimeout: Counter;
  readonly rqTimeout: Counter;
  readonly rqTooLarge: Counter;
  readonly rqWsOnNonWsRoute: Counter;
  readonly rqFailedPathNormalization: Counter;
  readonly rqNonRelativePath: Counter;
  readonly rqRedirectedWithNormalizedPath: Counter;
  readonly noRoute: Counter;
  readonly noCluster: Counter;
  readonly rqRedirect: Counter;
  readonly rqDirectResponse: Counter;
  /**
   * The HTTP/2 codec's counters: Envoy's `http2.*` names (the downstream codec's scope, shared by every
   * connection manager), and `downstream_rq_too_many_premature_resets` under this one's prefix.
   */
  readonly h2Codec: SessionCounters;

  constructor(stats: Stats, statPrefix: string) {
    const p = `http.${statPrefix}.`;
    this.prefix = p;
    const c = (n: string) => stats.counter(p + n);
    const g = (n: string) => stats.gauge(p + n);
    this.cxTotal = c('downstream_cx_total');
    this.cxActive = g('downstream_cx_active');
    this.cxHttp1Total = c('downstream_cx_http1_total');
    this.cxHttp2Total = c('downstream_cx_http2_total');
    this.cxHttp1Active = g('downstream_cx_http1_active');
    this.cxHttp2Active = g('downstream_cx_http2_active');
    this.cxProtocolError = c('downstream_cx_protocol_error');
    this.cxIdleTimeout = c('downstream_cx_idle_timeout');
    this.cxMaxDurationReached = c('downstream_cx_max_duration_reached');
    this.rqTotal = c('downstream_rq_total');
    this.rqActive = g('downstream_rq_active');
    this.rqHttp1Total = c('downstream_rq_http1_total');
    this.rqHttp2Total = c('downstream_rq_http2_total');
    this.rqByClass = [0, 1, 2, 3, 4, 5].map((n) => c(`downstream_rq_${n}xx`));
    this.rqCompleted = c('downstream_rq_completed');
    this.rqRxReset = c('downstream_rq_rx_reset');
    this.rqTxReset = c('downstream_rq_tx_reset');
    this.rqIdleTimeout = c('downstream_rq_idle_timeout');
    this.rqHeaderTimeout = c('downstream_rq_header_timeout');
    this.rqTimeout = c('downstream_rq_timeout');
    this.rqTooLarge = c('downstream_rq_too_large');
    this.rqWsOnNonWsRoute = c('downstream_rq_ws_on_non_ws_route');
    this.rqFailedPathNormalization = c('downstream_rq_failed_path_normalization');
    this.rqNonRelativePath = c('downstream_rq_non_relative_path');
    this.rqRedirectedWithNormalizedPath = c('downstream_rq_redirected_with_normalized_path');
    this.noRoute = c('no_route');
    this.noCluster = c('no_cluster');
    this.rqRedirect = c('rq_redirect');
    this.rqDirectResponse = c('rq_direct_response');
    this.h2Codec = http2Counters((name) => stats.counter(name), c('downstream_rq_too_many_premature_resets'));
  }

  /** Counts a response status sent downstream. */
  status(code: number): void {
    this.#add(code, 1);
  }

  /**
   * Takes back `status(code)` for a response head withdrawn before it reached the client. Only in the
   * same turn of the event loop as the count, so no reader of the stats sees the counter go down.
   */
  uncountStatus(code: number): void {
    this.#add(code, -1);
  }

  #add(code: number, n: number): void {
    const cls = Math.floor(code / 100);
    const counter = this.rqByClass[cls >= 1 && cls <= 5 ? cls : 5];
    if (counter !== undefined) counter.value += n;
  }
}
