/**
 * LoadBalancerSettings: the simple algorithms, consistent hashing (ring hash or Maglev) with its hash
 * key, locality settings and slow-start warmup.
 * https://istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings
 */
import * as z from 'zod';
import { atMostOne, check, obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { bool, duration, nonEmpty, numIn, str, uint64 } from '../../schema/primitives.ts';
import { LocalityLoadBalancerSetting } from './locality-lb.ts';
import { timeout } from './connection-pool.ts';

export const SIMPLE_LB = ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] as const;

/** Envoy's largest accepted Maglev table is just below this prime. */
const MAGLEV_TABLE_LIMIT = 5000011;

const CookieAttribute = obj({ name: nonEmpty(), value: str().optional() });

export const HTTPCookie = obj({
  name: nonEmpty(),
  path: str().optional(),
  // A zero TTL asks for a session cookie, so any non-negative duration is allowed.
  ttl: duration().optional(),
  attributes: z.array(CookieAttribute).optional(),
});
export type HTTPCookie = z.output<typeof HTTPCookie>;

const Maglev = rules(
  obj({ tableSize: uint64().optional() }),
  (m, report) => {
    const size = Number(m.tableSize ?? 0);
    if (size === 0) report({ path: ['tableSize'], message: 'tableSize must be set for maglev' });
    else if (size >= MAGLEV_TABLE_LIMIT) report({ path: ['tableSize'], message: `tableSize must be less than ${MAGLEV_TABLE_LIMIT} (got ${size})` });
    else if (!isPrime(size)) report({ path: ['tableSize'], message: `tableSize must be a prime number (got ${size}; 65537 is the default)` });
  },
);

const HASH_KEYS = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'] as const;

export const ConsistentHashLB = rules(
  obj({
    httpHeaderName: nonEmpty().optional(),
    httpCookie: HTTPCookie.optional(),
    useSourceIp: bool().optional(),
    httpQueryParameterName: nonEmpty().optional(),
    ringHash: obj({ minimumRingSize: uint64().optional() }).optional(),
    maglev: Maglev.optional(),
    minimumRingSize: uint64().optional(),
  }),
  (h, report) => consistentHashRules(h, report),
);
export type ConsistentHashLB = z.output<typeof ConsistentHashLB>;

function consistentHashRules(h: ConsistentHashLB, report: (i: RuleIssue) => void): void {
  atMostOne(h, HASH_KEYS, report);
  atMostOne(h, ['ringHash', 'maglev'], report);
  if (HASH_KEYS.every((k) => h[k] === undefined)) {
    report({ severity: 'warning', message: `consistentHash has no hash key (${HASH_KEYS.join(', ')}): requests are spread without affinity` });
  }
  if (h.minimumRingSize !== undefined && Number(h.minimumRingSize) !== 0) {
    if (h.ringHash !== undefined || h.maglev !== undefined) {
      report({ path: ['minimumRingSize'], message: 'minimumRingSize cannot be set with ringHash or maglev: use ringHash.minimumRingSize' });
    } else {
      report({ path: ['minimumRingSize'], severity: 'warning', message: 'minimumRingSize is deprecated: use ringHash.minimumRingSize' });
    }
  }
}

export const WarmupConfiguration = obj({
  duration: timeout(),
  minimumPercent: numIn(0, 100).optional(),
  aggression: check(z.number(), (v) => (v >= 1 ? undefined : `aggression must be at least 1 (got ${v})`)).optional(),
});

export const LoadBalancerSettings = rules(
  obj({
    simple: oneOf(SIMPLE_LB).optional(),
    consistentHash: ConsistentHashLB.optional(),
    localityLbSetting: LocalityLoadBalancerSetting.optional(),
    warmupDurationSecs: timeout().optional(),
    warmup: WarmupConfiguration.optional(),
  }),
  (lb, report) => {
    atMostOne(lb, ['simple', 'consistentHash'], report);
    if (lb.simple === 'LEAST_CONN') report({ path: ['simple'], severity: 'warning', message: 'LEAST_CONN is deprecated: use LEAST_REQUEST' });
    if (lb.warmupDurationSecs !== undefined) {
      report({ path: ['warmupDurationSecs'], severity: 'warning', message: 'warmupDurationSecs is deprecated: use warmup.duration' });
    }
  },
);
export type LoadBalancerSettings = z.output<typeof LoadBalancerSettings>;

/** Trial division, as Envoy checks the Maglev table size. */
export function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  for (let f = 3; f * f <= x; f += 2) {
    if (x % f === 0) return false;
  }
  return true;
}
