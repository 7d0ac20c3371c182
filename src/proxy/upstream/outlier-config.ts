/**
 * Compiles a cluster's `outlier_detection` into an `OutlierConfig`, with Envoy's defaults for every
 * field left out (DetectorConfig in source/common/upstream/outlier_detection_impl.cc) and the proto's
 * constraints as problems for the NACK: durations greater than 0, percentages at most 100,
 * `max_ejection_time` not below `base_ejection_time`. Extension monitors (`monitors`, not yet part of
 * Envoy's public API) are refused.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/outlier_detection.proto
 */
import type { Proto } from './proto-read.ts';
import { at, bool, durationMs, has, list, message, Problems, u32 } from './proto-read.ts';

export interface OutlierConfig {
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionTimeJitterMs: number;
  readonly maxEjectionPercent: number;
  /** Whether one host may always be ejected, whatever `max_ejection_percent` allows. */
  readonly alwaysEjectOneHost: boolean;
  /** Local-origin failures (connect failures, resets, timeouts) have counters of their own. */
  readonly splitExternalLocalOriginErrors: boolean;
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly consecutiveLocalOriginFailure: number;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  /** The factor × 1000 (1900 is 1.9 standard deviations). */
  readonly successRateStdevFactor: number;
  readonly failurePercentageThreshold: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
  /** Chance in percent that a detected outlier is ejected, per detection type. */
  readonly enforcing: Readonly<Record<EjectionType, number>>;
}

/** Envoy's `OutlierEjectionType`s, named as the stats that count them. */
export type EjectionType =
  | 'consecutive_5xx'
  | 'consecutive_gateway_failure'
  | 'consecutive_local_origin_failure'
  | 'success_rate'
  | 'local_origin_success_rate'
  | 'failure_percentage'
  | 'local_origin_failure_percentage';

export const EJECTION_TYPES: readonly EjectionType[] = [
  'consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure', 'success_rate',
  'local_origin_success_rate', 'failure_percentage', 'local_origin_failure_percentage',
];

/** The `enforcing_*` field of each type and its default. */
const ENFORCING: Readonly<Record<EjectionType, readonly [string, number]>> = {
  consecutive_5xx: ['enforcingConsecutive_5xx', 100],
  consecutive_gateway_failure: ['enforcingConsecutiveGatewayFailure', 0],
  consecutive_local_origin_failure: ['enforcingConsecutiveLocalOriginFailure', 100],
  success_rate: ['enforcingSuccessRate', 100],
  local_origin_success_rate: ['enforcingLocalOriginSuccessRate', 100],
  failure_percentage: ['enforcingFailurePercentage', 0],
  local_origin_failure_percentage: ['enforcingFailurePercentageLocalOrigin', 0],
};

const PATH = 'outlierDetection';
const DEFAULT_MAX_EJECTION_TIME_MS = 300_000;

/** A duration greater than 0, or `fallback` when absent. */
function positiveMs(o: Proto, key: string, fallback: number, problems: Problems): number {
  const ms = durationMs(o, key, PATH, problems);
  if (ms === undefined) return fallback;
  if (ms <= 0) {
    problems.add(at(PATH, key), 'must be greater than 0');
    return fallback;
  }
  return ms;
}

/** A count (any uint32), or `fallback` when absent. */
function count(o: Proto, key: string, fallback: number, problems: Problems): number {
  return u32(o, key, PATH, problems) ?? fallback;
}

/** A percentage (uint32 at most 100), or `fallback` when absent. */
function percentage(o: Proto, key: string, fallback: number, problems: Problems): number {
  const v = u32(o, key, PATH, problems);
  if (v === undefined) return fallback;
  if (v > 100) {
    problems.add(at(PATH, key), `must be at most 100 (got ${v})`);
    return fallback;
  }
  return v;
}

function enforcing(o: Proto, problems: Problems): Record<EjectionType, number> {
  const out = {} as Record<EjectionType, number>;
  for (const type of EJECTION_TYPES) {
    const [key, fallback] = ENFORCING[type];
    out[type] = percentage(o, key, fallback, problems);
  }
  return out;
}

function ejectionTimes(o: Proto, problems: Problems): Pick<OutlierConfig, 'baseEjectionTimeMs' | 'maxEjectionTimeMs' | 'maxEjectionTimeJitterMs'> {
  const base = positiveMs(o, 'baseEjectionTime', 30_000, problems);
  // Unset, the cap is 300 s or the base time, whichever is larger.
  const max = positiveMs(o, 'maxEjectionTime', Math.max(DEFAULT_MAX_EJECTION_TIME_MS, base), problems);
  if (has(o, 'maxEjectionTime') && max < base) problems.add(at(PATH, 'maxEjectionTime'), `must not be smaller than baseEjectionTime (${max} ms < ${base} ms)`);
  return { baseEjectionTimeMs: base, maxEjectionTimeMs: Math.max(max, base), maxEjectionTimeJitterMs: durationMs(o, 'maxEjectionTimeJitter', PATH, problems) ?? 0 };
}

/** The cluster's outlier detection, or undefined when it has none. */
export function compileOutlierDetection(c: Proto, problems: Problems): OutlierConfig | undefined {
  if (!has(c, 'outlierDetection')) return undefined;
  const o = message(c, 'outlierDetection', '', problems);
  if (list(o, 'monitors', PATH, problems).length > 0) problems.add(at(PATH, 'monitors'), 'outlier detection extension monitors are not supported');
  return {
    intervalMs: positiveMs(o, 'interval', 10_000, problems),
    ...ejectionTimes(o, problems),
    maxEjectionPercent: percentage(o, 'maxEjectionPercent', 10, problems),
    alwaysEjectOneHost: bool(o, 'alwaysEjectOneHost', PATH, problems),
    splitExternalLocalOriginErrors: bool(o, 'splitExternalLocalOriginErrors', PATH, problems),
    consecutive5xx: count(o, 'consecutive_5xx', 5, problems),
    consecutiveGatewayFailure: count(o, 'consecutiveGatewayFailure', 5, problems),
    consecutiveLocalOriginFailure: count(o, 'consecutiveLocalOriginFailure', 5, problems),
    successRateMinimumHosts: count(o, 'successRateMinimumHosts', 5, problems),
    successRateRequestVolume: count(o, 'successRateRequestVolume', 100, problems),
    successRateStdevFactor: count(o, 'successRateStdevFactor', 1900, problems),
    failurePercentageThreshold: percentage(o, 'failurePercentageThreshold', 85, problems),
    failurePercentageMinimumHosts: count(o, 'failurePercentageMinimumHosts', 5, problems),
    failurePercentageRequestVolume: count(o, 'failurePercentageRequestVolume', 50, problems),
    enforcing: enforcing(o, problems),
  };
}
