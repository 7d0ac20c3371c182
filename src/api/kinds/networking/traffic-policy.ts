/**
 * TrafficPolicy of a DestinationRule or subset: load balancing, connection pool, outlier detection, TLS
 * origination, per-port overrides, tunneling, PROXY protocol and retry budget.
 * https://istio.io/latest/docs/reference/config/networking/destination-rule/#TrafficPolicy
 */
import * as z from 'zod';
import { obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { bool, int32, numIn, percentInt, port, str, uint32 } from '../../schema/primitives.ts';
import { fqdnProblem } from '../../schema/names.ts';
import { ipProblem } from '../../schema/net.ts';
import { ConnectionPoolSettings, timeout } from './connection-pool.ts';
import { LoadBalancerSettings } from './load-balancer.ts';
import { ClientTLSSettings } from './client-tls.ts';

export { ConnectionPoolSettings, HTTPSettings, TCPSettings, TcpKeepalive } from './connection-pool.ts';
export { LoadBalancerSettings, ConsistentHashLB } from './load-balancer.ts';
export { LocalityLoadBalancerSetting } from './locality-lb.ts';
export { ClientTLSSettings } from './client-tls.ts';

export const OutlierDetection = rules(
  obj({
    consecutiveErrors: int32().optional(),
    splitExternalLocalOriginErrors: bool().optional(),
    consecutiveLocalOriginFailures: uint32().optional(),
    consecutiveGatewayErrors: uint32().optional(),
    consecutive5xxErrors: uint32().optional(),
    interval: timeout().optional(),
    baseEjectionTime: timeout().optional(),
    maxEjectionPercent: percentInt().optional(),
    minHealthPercent: percentInt().optional(),
  }),
  (o, report) => {
    if (o.consecutiveErrors !== undefined && o.consecutiveErrors !== 0) {
      report({ path: ['consecutiveErrors'], severity: 'warning', message: 'consecutiveErrors is deprecated: use consecutiveGatewayErrors or consecutive5xxErrors' });
    }
    if ((o.consecutiveLocalOriginFailures ?? 0) > 0 && o.splitExternalLocalOriginErrors !== true) {
      report({ path: ['consecutiveLocalOriginFailures'], message: 'consecutiveLocalOriginFailures only counts when splitExternalLocalOriginErrors is true' });
    }
  },
);
export type OutlierDetection = z.output<typeof OutlierDetection>;

export const PortSelector = obj({ number: port() });

/** The fields a port-level policy may override. */
const policyShape = {
  loadBalancer: LoadBalancerSettings.optional(),
  connectionPool: ConnectionPoolSettings.optional(),
  outlierDetection: OutlierDetection.optional(),
  tls: ClientTLSSettings.optional(),
};

export const PortTrafficPolicy = rules(obj({ port: PortSelector.optional(), ...policyShape }), (p, report) => {
  if (p.port === undefined) report({ path: ['port'], message: 'port-level settings need a port' });
  if (p.loadBalancer === undefined && p.connectionPool === undefined && p.outlierDetection === undefined && p.tls === undefined) {
    report({ message: 'port-level settings must set at least one of loadBalancer, connectionPool, outlierDetection or tls' });
  }
  failoverNeedsOutlier(p, report);
});
export type PortTrafficPolicy = z.output<typeof PortTrafficPolicy>;

export const TunnelSettings = rules(
  obj({
    protocol: str().optional(),
    targetHost: str(),
    targetPort: port(),
  }),
  (t, report) => {
    if (t.protocol !== undefined && t.protocol !== '' && t.protocol !== 'CONNECT' && t.protocol !== 'POST') {
      report({ path: ['protocol'], message: `tunnel protocol must be "CONNECT" or "POST" (got ${JSON.stringify(t.protocol)})` });
    }
    if (fqdnProblem(t.targetHost) !== undefined && ipProblem(t.targetHost) !== undefined) {
      report({ path: ['targetHost'], message: `must be a domain name or an IP address (got ${JSON.stringify(t.targetHost)})` });
    }
  },
);

export const ProxyProtocol = obj({ version: oneOf(['V1', 'V2']).optional() });

export const RetryBudget = obj({
  percent: numIn(0, 100).optional(),
  minRetryConcurrency: uint32().optional(),
});

export const TrafficPolicy = rules(
  obj({
    ...policyShape,
    portLevelSettings: z.array(PortTrafficPolicy).max(4096).optional(),
    tunnel: TunnelSettings.optional(),
    proxyProtocol: ProxyProtocol.optional(),
    retryBudget: RetryBudget.optional(),
  }),
  (tp, report) => trafficPolicyRules(tp, report),
);
export type TrafficPolicy = z.output<typeof TrafficPolicy>;

function trafficPolicyRules(tp: TrafficPolicy, report: (i: RuleIssue) => void): void {
  if (Object.values(tp).every((v) => v === undefined)) {
    report({ message: 'traffic policy must set at least one field' });
    return;
  }
  if (tp.tunnel !== undefined && tp.proxyProtocol !== undefined) {
    report({ path: ['proxyProtocol'], message: 'tunnel and proxyProtocol cannot be set together' });
  }
  failoverNeedsOutlier(tp, report);
  const seen = new Map<number, number>();
  (tp.portLevelSettings ?? []).forEach((p, i) => {
    if (p.port === undefined) return;
    const prev = seen.get(p.port.number);
    if (prev !== undefined) {
      report({ path: ['portLevelSettings', i, 'port', 'number'], severity: 'warning', message: `port ${p.port.number} already has settings in portLevelSettings[${prev}]; only one applies` });
    } else {
      seen.set(p.port.number, i);
    }
  });
}

/** Locality failover only triggers once outlier detection marks endpoints unhealthy. */
function failoverNeedsOutlier(p: { loadBalancer?: LoadBalancerSettings | undefined; outlierDetection?: OutlierDetection | undefined }, report: (i: RuleIssue) => void): void {
  const lb = p.loadBalancer?.localityLbSetting;
  if (lb === undefined || p.outlierDetection !== undefined) return;
  if ((lb.failover ?? []).length > 0 || (lb.failoverPriority ?? []).length > 0) {
    report({ path: ['loadBalancer', 'localityLbSetting'], severity: 'warning', message: 'locality failover needs outlierDetection in the same policy: without it endpoints are never marked unhealthy' });
  }
}
