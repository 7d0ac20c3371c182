/**
 * DestinationRule traffic policy → Envoy cluster fields: load balancer, connection pool (connect
 * timeout, circuit breakers, HTTP protocol options), outlier detection. Port-level settings and subset
 * policies override the rule's, field group by field group, as Istio merges them
 * (pilot/pkg/networking/core/cluster_traffic_policy.go). TLS arrives with the security issue.
 */
import type { SpecOf } from '../../api/index.ts';
import { duration } from './proto-values.ts';

type DestinationRuleSpec = SpecOf<'DestinationRule'>;
export type TrafficPolicy = NonNullable<DestinationRuleSpec['trafficPolicy']>;
type PortPolicy = NonNullable<TrafficPolicy['portLevelSettings']>[number];
type Policy = Pick<TrafficPolicy, 'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'tls'>;

/** Istio's defaults: 10 s connect timeout, circuit breaker thresholds effectively off. */
export const DEFAULT_CONNECT_TIMEOUT = { seconds: 10, nanos: 0 };
const UNLIMITED = 4294967295;

/** The policy in force for `port`: the rule's, overridden by its port-level settings, then by the subset's. */
export function effectivePolicy(rule: TrafficPolicy | undefined, subset: TrafficPolicy | undefined, port: number): Policy {
  const merged: Policy = {};
  for (const layer of [rule, portLevel(rule, port), subset, portLevel(subset, port)]) {
    if (layer === undefined) continue;
    if (layer.loadBalancer !== undefined) merged.loadBalancer = layer.loadBalancer;
    if (layer.connectionPool !== undefined) merged.connectionPool = layer.connectionPool;
    if (layer.outlierDetection !== undefined) merged.outlierDetection = layer.outlierDetection;
    if (layer.tls !== undefined) merged.tls = layer.tls;
  }
  return merged;
}

/** The port-level settings of `policy` for `port`, if any. */
export function portLevel(policy: TrafficPolicy | undefined, port: number): PortPolicy | undefined {
  return policy?.portLevelSettings?.find((p) => p.port?.number === port);
}

/**
 * `loadBalancer.simple` as Envoy's lb_policy. Unset or UNSPECIFIED is the caller's default:
 * LEAST_REQUEST, Istio's since 1.14 (ROUND_ROBIN before), for proxies.
 */
export const DEFAULT_LB = 'LEAST_REQUEST';
const SIMPLE_LB: Readonly<Record<string, string>> = {
  ROUND_ROBIN: 'ROUND_ROBIN', LEAST_CONN: 'LEAST_REQUEST', LEAST_REQUEST: 'LEAST_REQUEST', RANDOM: 'RANDOM',
};

/** Envoy's default ring size, which Istio writes out when only the deprecated `minimumRingSize` could say. */
const DEFAULT_MIN_RING_SIZE = 1024;

/**
 * Cluster fields for the load balancer: `lbPolicy` and ring-hash / maglev sizing (Istio's
 * `ApplyRingHashLoadBalancer`). What a consistent hash hashes is the routes' `hash_policy`
 * (http/consistent-hash.ts).
 */
function loadBalancerFields(lb: Policy['loadBalancer'], defaultLb: string): Record<string, unknown> {
  if (lb === undefined) return { lbPolicy: defaultLb };
  const hash = lb.consistentHash;
  if (hash !== undefined) {
    if (hash.maglev !== undefined) return { lbPolicy: 'MAGLEV', ...(Number(hash.maglev.tableSize ?? 0) !== 0 ? { maglevLbConfig: { tableSize: { value: hash.maglev.tableSize } } } : {}) };
    if (hash.ringHash !== undefined) {
      const min = hash.ringHash.minimumRingSize;
      return { lbPolicy: 'RING_HASH', ...(Number(min ?? 0) !== 0 ? { ringHashLbConfig: { minimumRingSize: { value: min } } } : {}) };
    }
    const min = Number(hash.minimumRingSize ?? 0) !== 0 ? hash.minimumRingSize : DEFAULT_MIN_RING_SIZE;
    return { lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: { value: min } } };
  }
  if (lb.simple === 'PASSTHROUGH') return { lbPolicy: 'CLUSTER_PROVIDED' };
  return { lbPolicy: SIMPLE_LB[lb.simple ?? 'UNSPECIFIED'] ?? defaultLb };
}

function circuitBreakers(pool: Policy['connectionPool']): Record<string, unknown> {
  const t = pool?.tcp;
  const h = pool?.http;
  return {
    thresholds: [{
      maxConnections: { value: t?.maxConnections ?? UNLIMITED },
      maxPendingRequests: { value: h?.http1MaxPendingRequests ?? UNLIMITED },
      maxRequests: { value: h?.http2MaxRequests ?? UNLIMITED },
      maxRetries: { value: h?.maxRetries ?? UNLIMITED },
      trackRemaining: true,
    }],
  };
}

/** A consecutive-errors threshold and its enforcement: Istio enforces every kind that is set above 0. */
function consecutive(value: number): { count: { value: number }; enforcing: { value: number } } {
  return { count: { value }, enforcing: { value: value > 0 ? 100 : 0 } };
}

/**
 * Istio's applyOutlierDetection: only the fields the rule sets, so Envoy's defaults hold for the rest
 * (an unset `consecutive5xxErrors` is Envoy's 5, enforced; gateway failures are counted but not
 * enforced unless `consecutiveGatewayErrors` is set), success-rate ejection off, `maxEjectionPercent`
 * only above 0, local-origin failures enforced only when counted apart and given a threshold, and the
 * panic threshold always set: `minHealthPercent`, 0 (no panic) when unset.
 * The deprecated `consecutiveErrors` (current Istio drops it) keeps the meaning Istio's API gives it and
 * Istio once translated it to: that many gateway errors (502, 503, 504) eject, 5xx alone do not;
 * `consecutive5xxErrors` and `consecutiveGatewayErrors` take precedence.
 */
function outlierFields(o: Policy['outlierDetection']): Record<string, unknown> {
  if (o === undefined) return {};
  const od: Record<string, unknown> = { enforcingSuccessRate: { value: 0 } };
  if (o.consecutiveErrors !== undefined && o.consecutiveErrors > 0) {
    od['consecutiveGatewayFailure'] = { value: o.consecutiveErrors };
    od['enforcingConsecutiveGatewayFailure'] = { value: 100 };
    od['enforcingConsecutive_5xx'] = { value: 0 };
  }
  if (o.consecutive5xxErrors !== undefined) {
    const { count, enforcing } = consecutive(o.consecutive5xxErrors);
    od['consecutive_5xx'] = count;
    od['enforcingConsecutive_5xx'] = enforcing;
  }
  if (o.consecutiveGatewayErrors !== undefined) {
    const { count, enforcing } = consecutive(o.consecutiveGatewayErrors);
    od['consecutiveGatewayFailure'] = count;
    od['enforcingConsecutiveGatewayFailure'] = enforcing;
  }
  if (o.interval) od['interval'] = duration(o.interval);
  if (o.baseEjectionTime) od['baseEjectionTime'] = duration(o.baseEjectionTime);
  if (o.maxEjectionPercent !== undefined && o.maxEjectionPercent > 0) od['maxEjectionPercent'] = { value: o.maxEjectionPercent };
  if (o.splitExternalLocalOriginErrors === true) {
    od['splitExternalLocalOriginErrors'] = true;
    if ((o.consecutiveLocalOriginFailures ?? 0) > 0) {
      od['consecutiveLocalOriginFailure'] = { value: o.consecutiveLocalOriginFailures };
      od['enforcingConsecutiveLocalOriginFailure'] = { value: 100 };
    }
    od['enforcingLocalOriginSuccessRate'] = { value: 0 };
  }
  // Istio sets the threshold even at 0: panic mode rarely suits services with few endpoints.
  return { outlierDetection: od, commonLbConfig: { healthyPanicThreshold: { value: o.minHealthPercent ?? 0 } } };
}

/** HTTP protocol options for the upstream: HTTP/2 for http2/grpc ports (or h2 upgrade), idle timeout, requests per connection. */
function protocolOptions(pool: Policy['connectionPool'], http2: boolean): Record<string, unknown> {
  const h = pool?.http;
  const common: Record<string, unknown> = {
    ...(h?.idleTimeout ? { idleTimeout: duration(h.idleTimeout) } : {}),
    ...(h?.maxRequestsPerConnection ? { maxRequestsPerConnection: { value: h.maxRequestsPerConnection } } : {}),
  };
  const upgrade = h?.h2UpgradePolicy === 'UPGRADE';
  const useH2 = (http2 || upgrade) && h?.h2UpgradePolicy !== 'DO_NOT_UPGRADE';
  const options: Record<string, unknown> = {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    ...(Object.keys(common).length > 0 ? { commonHttpProtocolOptions: common } : {}),
    ...(h?.useClientProtocol
      ? { useDownstreamProtocolConfig: { httpProtocolOptions: {}, http2ProtocolOptions: {} } }
      : { explicitHttpConfig: useH2 ? { http2ProtocolOptions: h?.maxConcurrentStreams ? { maxConcurrentStreams: { value: h.maxConcurrentStreams } } : {} } : { httpProtocolOptions: {} } }),
  };
  return { typedExtensionProtocolOptions: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': options } };
}

/**
 * The cluster fields a policy contributes. `http` says whether the port carries HTTP (protocol options
 * apply), `http2` whether it is HTTP/2 or gRPC.
 */
export function clusterPolicyFields(policy: Policy, port: { http: boolean; http2: boolean }, defaultLb = DEFAULT_LB): Record<string, unknown> {
  const tcp = policy.connectionPool?.tcp;
  const keepalive = tcp?.tcpKeepalive;
  return {
    connectTimeout: duration(tcp?.connectTimeout) ?? DEFAULT_CONNECT_TIMEOUT,
    ...loadBalancerFields(policy.loadBalancer, defaultLb),
    circuitBreakers: circuitBreakers(policy.connectionPool),
    ...outlierFields(policy.outlierDetection),
    ...(port.http ? protocolOptions(policy.connectionPool, port.http2) : {}),
    ...(keepalive ? {
      upstreamConnectionOptions: {
        tcpKeepalive: {
          ...(keepalive.probes ? { keepaliveProbes: { value: keepalive.probes } } : {}),
          ...(keepalive.time ? { keepaliveTime: { value: duration(keepalive.time)?.seconds ?? 0 } } : {}),
          ...(keepalive.interval ? { keepaliveInterval: { value: duration(keepalive.interval)?.seconds ?? 0 } } : {}),
        },
      },
    } : {}),
  };
}
