/**
 * Envoy's outlier detection for one cluster (passive health checking): a `HostMonitor` per host counts
 * what callers report — response statuses, connect failures and resets, timeouts — and an
 * `OutlierDetector` ejects the hosts that misbehave and brings them back. An ejected host counts as
 * unhealthy for every load balancer (used only in panic); the cluster rebuilds its picker when told.
 * - Consecutive errors (5xx, gateway failures 502/503/504, local-origin failures) eject inline, when a
 *   counter reaches its threshold; without `split_external_local_origin_errors` local-origin failures
 *   count as 503 (504 for timeouts), as Envoy maps them.
 * - Success rate (mean − factor × stdev across hosts) and failure percentage are judged once per
 *   interval over the interval before.
 * - An ejection needs room under `max_ejection_percent` (ejected + 1 over all hosts; one host always
 *   with `always_eject_one_host`) and passes its type's `enforcing_*` chance. The host stays out for
 *   `base_ejection_time` × its back-off (which grows with each ejection and shrinks by one per interval
 *   the host stays healthy), capped by `max_ejection_time`, plus jitter, and returns at the first
 *   interval tick after that.
 * Monitors live on the host's `HostState`, so a host that survives an EDS update (same address), or a
 * CDS update that keeps the cluster's hosts, keeps its counters and ejection. One timer per cluster,
 * only while the cluster has outlier detection.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier
 * (source/common/upstream/outlier_detection_impl.cc)
 */
import type { OutlierMonitor, OutlierResult } from '../core/contracts.ts';
import type { Counter, Gauge, Stats } from '../core/stats.ts';
import type { EjectionType, OutlierConfig } from './outlier-config.ts';
import { EJECTION_TYPES } from './outlier-config.ts';

export interface DetectorDeps {
  readonly stats: Stats;
  /** The cluster's stat prefix (`cluster.<name>.`). */
  readonly prefix: string;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /** A uniformly random unsigned 32-bit integer (enforcement chances, jitter). */
  readonly random: () => number;
  /** Called after hosts were ejected or returned: their availability changed. */
  readonly onHealthChange: () => void;
}

/** Where a host's monitor lives: its `HostState`. */
export interface MonitoredHost {
  outlier: HostMonitor | undefined;
}

/** Success-rate counts of one origin for one host: the interval being written and the last complete one. */
export class RateBuckets {
  total = 0;
  success = 0;
  lastTotal = 0;
  lastSuccess = 0;
  /** The last interval's success rate in percent, -1 when not computed (shown in /clusters). */
  rate = -1;

  roll(): void {
    this.lastTotal = this.total;
    this.lastSuccess = this.success;
    this.total = 0;
    this.success = 0;
    this.rate = -1;
  }
}

/** What one host's callers reported, and its ejection state. */
export class HostMonitor implements OutlierMonitor {
  /** The detector of the cluster version that watches this host now (replaced on a CDS update). */
  detector: OutlierDetector;
  ejected = false;
  consecutive5xx = 0;
  consecutiveGateway = 0;
  consecutiveLocal = 0;
  numEjections = 0;
  /** The ejection time multiplier. */
  backoff = 0;
  lastEjectionMs = 0;
  lastUnejectionMs: number | undefined;
  jitterMs = 0;
  readonly external = new RateBuckets();
  readonly local = new RateBuckets();

  constructor(detector: OutlierDetector) {
    this.detector = detector;
  }

  putHttpStatus(status: number): void {
    const config = this.detector.config;
    this.external.total++;
    if (status >= 500 && status <= 599) {
      if (status >= 502 && status <= 504) {
        if (++this.consecutiveGateway === config.consecutiveGatewayFailure) this.detector.consecutiveError(this, 'consecutive_gateway_failure');
      } else {
        this.consecutiveGateway = 0;
      }
      if (++this.consecutive5xx === config.consecutive5xx) this.detector.consecutiveError(this, 'consecutive_5xx');
    } else {
      this.external.success++;
      this.consecutive5xx = 0;
      this.consecutiveGateway = 0;
    }
  }

  putResult(result: OutlierResult): void {
    if (this.detector.config.splitExternalLocalOriginErrors) this.#putSplit(result);
    else this.#putMapped(result);
  }

  /** Local-origin events as HTTP statuses (Envoy's resultToHttpCode); a bare connect success says nothing yet. */
  #putMapped(result: OutlierResult): void {
    switch (result) {
      case 'connect-success':
        return;
      case 'connect-success-final':
        return this.putHttpStatus(200);
      case 'timeout':
        return this.putHttpStatus(504);
      case 'connect-failed':
        return this.putHttpStatus(503);
    }
  }

  #putSplit(result: OutlierResult): void {
    switch (result) {
      case 'connect-success':
      case 'connect-success-final':
        return this.#localSuccess();
      case 'timeout':
      case 'connect-failed':
        return this.#localFailure();
    }
  }

  #localFailure(): void {
    this.local.total++;
    if (++this.consecutiveLocal === this.detector.config.consecutiveLocalOriginFailure) this.detector.consecutiveError(this, 'consecutive_local_origin_failure');
  }

  #localSuccess(): void {
    this.local.total++;
    this.local.success++;
    this.consecutiveLocal = 0;
  }
}

/** A success-rate mean and ejection threshold of the last interval; -1 when not computed. */
export interface SuccessRateFigures {
  readonly average: number;
  readonly threshold: number;
}

const NOT_COMPUTED: SuccessRateFigures = { average: -1, threshold: -1 };

const COUNTERS = [
  'ejections_enforced_total', 'ejections_overflow', 'ejections_total', 'ejections_consecutive_5xx', 'ejections_success_rate',
  ...EJECTION_TYPES.flatMap((t) => [`ejections_enforced_${t}`, `ejections_detected_${t}`]),
] as const;

export class OutlierDetector {
  readonly config: OutlierConfig;
  readonly #deps: DetectorDeps;
  readonly #counters = new Map<string, Counter>();
  readonly #active: Gauge;
  #monitors = new Set<HostMonitor>();
  #timer: NodeJS.Timeout | undefined;
  #retired = false;
  #external: SuccessRateFigures = NOT_COMPUTED;
  #local: SuccessRateFigures = NOT_COMPUTED;

  constructor(config: OutlierConfig, deps: DetectorDeps) {
    this.config = config;
    this.#deps = deps;
    const scope = `${deps.prefix}outlier_detection.`;
    for (const name of COUNTERS) this.#counters.set(name, deps.stats.counter(scope + name));
    // Written only when the count changes (setHosts right after counts the hosts), as Envoy touches it
    // only on ejections and returns: `/stats?usedonly` lists it once a host was ejected.
    this.#active = deps.stats.gauge(`${scope}ejections_active`);
    this.#arm();
  }

  /** The last interval's success-rate figures, for external or local-origin results. */
  successRate(origin: 'external' | 'local'): SuccessRateFigures {
    return origin === 'external' ? this.#external : this.#local;
  }

  /**
   * The hosts to watch, after every membership change: a host that stays keeps its monitor (counters,
   * back-off, ejection), one watched by the cluster version before is taken over, a new host gets a
   * fresh monitor, and a host that left is forgotten.
   */
  setHosts(hosts: Iterable<MonitoredHost>): void {
    const next = new Set<HostMonitor>();
    let active = 0;
    for (const h of hosts) {
      let m = h.outlier;
      if (m === undefined) {
        m = new HostMonitor(this);
        h.outlier = m;
      }
      m.detector = this;
      next.add(m);
      if (m.ejected) active++;
    }
    this.#monitors = next;
    if (this.#active.value !== active) this.#active.value = active;
  }

  /** Stops the interval timer; reports arriving later change nothing (the cluster version is gone). */
  retire(): void {
    this.#retired = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #count(name: string): void {
    this.#counters.get(name)!.value++;
  }

  /** A consecutive-error counter of `m` reached its threshold (Envoy's onConsecutiveErrorWorker). */
  consecutiveError(m: HostMonitor, type: EjectionType): void {
    if (this.#retired || m.ejected || !this.#monitors.has(m)) return;
    this.#count(`ejections_detected_${type}`);
    const ejected = this.#eject(m, type, this.#deps.now());
    // Reset, so that a new bout of errors is detected even without a success in between.
    if (type === 'consecutive_5xx') {
      this.#count('ejections_consecutive_5xx');
      m.consecutive5xx = 0;
    } else if (type === 'consecutive_gateway_failure') {
      m.consecutiveGateway = 0;
    } else {
      m.consecutiveLocal = 0;
    }
    if (ejected) this.#deps.onHealthChange();
  }

  /** Whether an ejection of `type` passes its `enforcing_*` chance. */
  #enforced(type: EjectionType): boolean {
    const chance = this.config.enforcing[type];
    return chance >= 100 || (chance > 0 && this.#deps.random() % 100 < chance);
  }

  /** Ejects `m` if `max_ejection_percent` leaves room and the type is enforced; true when it did. */
  #eject(m: HostMonitor, type: EjectionType, now: number): boolean {
    const c = this.config;
    const active = this.#active.value;
    let room = (100 * (active + 1)) / this.#monitors.size <= Math.min(100, c.maxEjectionPercent);
    if (c.alwaysEjectOneHost && active === 0) room = true;
    if (!room) {
      this.#count('ejections_overflow');
      return false;
    }
    if (type === 'consecutive_5xx' || type === 'success_rate') this.#count('ejections_total');
    if (!this.#enforced(type)) return false;
    this.#active.value = active + 1;
    this.#count('ejections_enforced_total');
    this.#count(`ejections_enforced_${type}`);
    m.ejected = true;
    m.numEjections++;
    m.lastEjectionMs = now;
    const jitter = Math.floor(c.maxEjectionTimeJitterMs);
    m.jitterMs = jitter > 0 ? this.#deps.random() % (jitter + 1) : 0;
    if (m.backoff * c.baseEjectionTimeMs < c.maxEjectionTimeMs + c.baseEjectionTimeMs) m.backoff++;
    return true;
  }

  #uneject(m: HostMonitor, now: number): void {
    this.#active.value--;
    m.ejected = false;
    // A host back in service starts its counts afresh: a few errors must not eject it again at once.
    m.consecutive5xx = 0;
    m.consecutiveGateway = 0;
    m.consecutiveLocal = 0;
    m.lastUnejectionMs = now;
  }

  #arm(): void {
    // Node runs a delay past 2^31 - 1 ms after 1 ms: a longer interval is clamped to that (~24.8 days).
    this.#timer = setTimeout(() => this.#onInterval(), Math.min(this.config.intervalMs, 2 ** 31 - 1));
    this.#timer.unref();
  }

  #onInterval(): void {
    if (this.#retired) return;
    const now = this.#deps.now();
    const c = this.config;
    let changed = false;
    for (const m of this.#monitors) {
      if (!m.ejected) {
        // The back-off shrinks for each interval a host spends back in service (before this tick's rate
        // ejections, as Envoy's checkHostForUneject does it).
        if (m.lastUnejectionMs !== undefined && now - m.lastUnejectionMs >= c.intervalMs && m.backoff > 0) m.backoff--;
      } else if (Math.min(c.baseEjectionTimeMs * m.backoff, c.maxEjectionTimeMs) + m.jitterMs <= now - m.lastEjectionMs) {
        this.#uneject(m, now);
        changed = true;
      }
      m.external.roll();
      m.local.roll();
    }
    if (this.#rateEjections('external', now)) changed = true;
    if (this.#rateEjections('local', now)) changed = true;
    this.#arm();
    if (changed) this.#deps.onHealthChange();
  }

  /** Success-rate and failure-percentage ejections over the last interval; true when a host was ejected. */
  #rateEjections(origin: 'external' | 'local', now: number): boolean {
    const c = this.config;
    if (origin === 'external') this.#external = NOT_COMPUTED;
    else this.#local = NOT_COMPUTED;
    if (this.#monitors.size < c.successRateMinimumHosts && this.#monitors.size < c.failurePercentageMinimumHosts) return false;
    const forRate: [HostMonitor, number][] = [];
    const forPercentage: [HostMonitor, number][] = [];
    let sum = 0;
    for (const m of this.#monitors) {
      const b = m[origin];
      if (m.ejected || b.lastTotal === 0) continue;
      const rate = (b.lastSuccess * 100) / b.lastTotal;
      if (b.lastTotal >= Math.min(c.successRateRequestVolume, c.failurePercentageRequestVolume)) b.rate = rate;
      if (b.lastTotal >= c.successRateRequestVolume) {
        forRate.push([m, rate]);
        sum += rate;
      }
      if (b.lastTotal >= c.failurePercentageRequestVolume) forPercentage.push([m, rate]);
    }
    let ejected = false;
    if (forRate.length > 0 && forRate.length >= c.successRateMinimumHosts) {
      const figures = successRateThreshold(sum, forRate.map(([, r]) => r), c.successRateStdevFactor / 1000);
      if (origin === 'external') this.#external = figures;
      else this.#local = figures;
      const type: EjectionType = origin === 'external' ? 'success_rate' : 'local_origin_success_rate';
      for (const [m, rate] of forRate) {
        if (rate >= figures.threshold) continue;
        this.#count('ejections_success_rate');
        this.#count(`ejections_detected_${type}`);
        if (this.#eject(m, type, now)) ejected = true;
      }
    }
    if (forPercentage.length > 0 && forPercentage.length >= c.failurePercentageMinimumHosts) {
      const type: EjectionType = origin === 'external' ? 'failure_percentage' : 'local_origin_failure_percentage';
      for (const [m, rate] of forPercentage) {
        if (m.ejected || 100 - rate < c.failurePercentageThreshold) continue;
        this.#count(`ejections_detected_${type}`);
        if (this.#eject(m, type, now)) ejected = true;
      }
    }
    return ejected;
  }
}

/** Mean of the hosts' success rates and `mean − factor × stdev` (population standard deviation). */
export function successRateThreshold(sum: number, rates: readonly number[], factor: number): SuccessRateFigures {
  const mean = sum / rates.length;
  let variance = 0;
  for (const r of rates) variance += (r - mean) ** 2;
  variance /= rates.length;
  return { average: mean, threshold: mean - factor * Math.sqrt(variance) };
}

/** gRPC status → HTTP status, for outlier detection (Envoy's Grpc::Utility::grpcToHttpStatus). */
const GRPC_TO_HTTP = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

export function grpcToHttpStatus(grpcStatus: number): number {
  return GRPC_TO_HTTP[grpcStatus] ?? 500;
}
