/**
 * The router's per-cluster counters (`cluster.<name>.upstream_rq_*`, Envoy's names), looked up once per
 * cluster handle through `ClusterHandle.counter` and cached, so a request only increments fields. Only
 * what the router alone knows (timeouts, retries, resets, response codes); the cluster's pools count
 * requests, completions, connection attempts and failures, and its circuit breakers overflows
 * (`ClusterHandle`). `rqTotal` is for CONNECT tunnels, whose raw TCP connection no pool counts as a request.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats
 */
import type { ClusterHandle } from '../core/contracts.ts';
import type { Counter } from '../core/stats.ts';

export class ClusterStats {
  readonly #cluster: ClusterHandle;
  readonly rqTotal: Counter;
  readonly rqTimeout: Counter;
  readonly rqPerTryTimeout: Counter;
  readonly rqRetry: Counter;
  readonly rqRetrySuccess: Counter;
  readonly rqRetryLimitExceeded: Counter;
  readonly rqRxReset: Counter;
  readonly rqTxReset: Counter;
  /** A response the codec could not read (the pools report it, the router counts it). */
  readonly cxProtocolError: Counter;
  readonly cxNoneHealthy: Counter;
  readonly #byClass: Counter[] = [];
  readonly #byCode = new Map<number, Counter>();

  constructor(cluster: ClusterHandle) {
    this.#cluster = cluster;
    const c = (n: string) => cluster.counter(n);
    this.rqTotal = c('upstream_rq_total');
    this.rqTimeout = c('upstream_rq_timeout');
    this.rqPerTryTimeout = c('upstream_rq_per_try_timeout');
    this.rqRetry = c('upstream_rq_retry');
    this.rqRetrySuccess = c('upstream_rq_retry_success');
    this.rqRetryLimitExceeded = c('upstream_rq_retry_limit_exceeded');
    this.rqRxReset = c('upstream_rq_rx_reset');
    this.rqTxReset = c('upstream_rq_tx_reset');
    this.cxProtocolError = c('upstream_cx_protocol_error');
    this.cxNoneHealthy = c('upstream_cx_none_healthy');
    for (let i = 0; i <= 5; i++) this.#byClass.push(c(`upstream_rq_${i}xx`));
  }

  /** Counts a response (upstream's, or a local reply made for this cluster): `upstream_rq_<code>` and `_<N>xx`. */
  status(code: number): void {
    this.#add(code, 1);
  }

  /** Takes back a response counted by `status` that never reached the client (a withdrawn head). */
  uncount(code: number): void {
    this.#add(code, -1);
  }

  #add(code: number, n: number): void {
    let counter = this.#byCode.get(code);
    if (counter === undefined) {
      counter = this.#cluster.counter(`upstream_rq_${code}`);
      this.#byCode.set(code, counter);
    }
    counter.value += n;
    const cls = Math.floor(code / 100);
    this.#byClass[cls >= 1 && cls <= 5 ? cls : 5]!.value += n;
  }
}

const cache = new WeakMap<ClusterHandle, ClusterStats>();

export function clusterStats(cluster: ClusterHandle): ClusterStats {
  let s = cache.get(cluster);
  if (s === undefined) {
    s = new ClusterStats(cluster);
    cache.set(cluster, s);
  }
  return s;
}
