/**
 * The statistics a cluster owns, declared as one list as Envoy does (ALL_CLUSTER_TRAFFIC_STATS,
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats),
 * created once per cluster name under `cluster.<alt_stat_name or name>.` in the shared `Stats`. A
 * cluster replaced by a CDS update keeps the same counter objects, so totals survive updates.
 */
import type { Counter, Gauge, Stats } from '../core/stats.ts';

export const CLUSTER_COUNTERS = [
  'upstream_cx_total',
  'upstream_cx_http1_total',
  'upstream_cx_http2_total',
  'upstream_cx_connect_fail',
  'upstream_cx_connect_timeout',
  'upstream_cx_overflow',
  'upstream_cx_destroy',
  'upstream_rq_total',
  'upstream_rq_completed',
  'upstream_rq_pending_total',
  'upstream_rq_pending_overflow',
  'membership_change',
  'update_success',
  'update_empty',
  'original_dst_host_invalid',
  'lb_healthy_panic',
] as const;

export const CLUSTER_GAUGES = [
  'upstream_cx_active',
  'upstream_rq_active',
  'upstream_rq_pending_active',
  'membership_total',
  'membership_healthy',
  'membership_degraded',
  'circuit_breakers.default.cx_open',
  'circuit_breakers.default.rq_open',
  'circuit_breakers.default.rq_pending_open',
] as const;

export type ClusterCounterName = (typeof CLUSTER_COUNTERS)[number];
export type ClusterGaugeName = (typeof CLUSTER_GAUGES)[number];

const GAUGE_SET: ReadonlySet<string> = new Set(CLUSTER_GAUGES);

export class ClusterStats {
  readonly prefix: string;
  readonly c: Readonly<Record<ClusterCounterName, Counter>>;
  readonly g: Readonly<Record<ClusterGaugeName, Gauge>>;
  readonly #stats: Stats;

  constructor(stats: Stats, statName: string) {
    this.#stats = stats;
    this.prefix = `cluster.${statName}.`;
    const c = {} as Record<ClusterCounterName, Counter>;
    for (const name of CLUSTER_COUNTERS) c[name] = stats.counter(this.prefix + name);
    const g = {} as Record<ClusterGaugeName, Gauge>;
    for (const name of CLUSTER_GAUGES) g[name] = stats.gauge(this.prefix + name);
    this.c = c;
    this.g = g;
  }

  /** A counter or gauge by its short name (`upstream_rq_total`); names outside the lists are counters. */
  get(name: string): { value: number } {
    if (GAUGE_SET.has(name)) return this.#stats.gauge(this.prefix + name);
    return this.#stats.counter(this.prefix + name);
  }
}
