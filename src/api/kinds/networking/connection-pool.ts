/**
 * ConnectionPoolSettings: upstream connection limits and timeouts, shared by DestinationRule traffic
 * policies and Sidecar ingress listeners.
 * https://istio.io/latest/docs/reference/config/networking/destination-rule/#ConnectionPoolSettings
 */
import * as z from 'zod';
import { check, obj, oneOf, rules } from '../../schema/object.ts';
import { bool, duration, intIn, uint32 } from '../../schema/primitives.ts';
import { parseDuration } from '../../schema/duration.ts';

/** The int32 counters Istio rejects when negative (0 means "use Envoy's default"). */
const count = () => intIn(0, 2147483647);

/** Envoy takes these durations in whole milliseconds; Istio rejects finer ones rather than round them. */
export function msPrecisionProblem(v: string): string | undefined {
  const ms = parseDuration(v);
  if (ms === undefined || ms < 1 || Math.abs(ms - Math.round(ms)) < 1e-6) return undefined;
  return `only millisecond precision is supported (got ${JSON.stringify(v)})`;
}

/** Istio's agent.ValidateDuration: at least 1ms, in whole milliseconds. */
export const timeout = () => check(duration({ min: '1ms' }), msPrecisionProblem);

export const TcpKeepalive = obj({
  probes: uint32().optional(),
  time: timeout().optional(),
  interval: timeout().optional(),
});
export type TcpKeepalive = z.output<typeof TcpKeepalive>;

export const TCPSettings = obj({
  maxConnections: count().optional(),
  connectTimeout: timeout().optional(),
  tcpKeepalive: TcpKeepalive.optional(),
  maxConnectionDuration: timeout().optional(),
  // 0s disables the idle timeout, so it is the one duration here allowed to be zero.
  idleTimeout: check(duration({ min: '1ms', allowZero: true }), msPrecisionProblem).optional(),
});
export type TCPSettings = z.output<typeof TCPSettings>;

/**
 * HTTP/2 PING keepalive towards the upstream. Newer than the stored CRD file; taken from Istio's own CRD
 * test data (destinationrule-valid.yaml), which accepts `interval` and `timeout`.
 */
export const HTTP2KeepAlive = obj({
  interval: timeout().optional(),
  timeout: timeout().optional(),
});

export const H2_UPGRADE_POLICIES = ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] as const;

export const HTTPSettings = rules(
  obj({
    http1MaxPendingRequests: count().optional(),
    http2MaxRequests: count().optional(),
    maxRequestsPerConnection: count().optional(),
    maxRetries: count().optional(),
    idleTimeout: timeout().optional(),
    h2UpgradePolicy: oneOf(H2_UPGRADE_POLICIES).optional(),
    useClientProtocol: bool().optional(),
    maxConcurrentStreams: count().optional(),
    http2KeepAlive: HTTP2KeepAlive.optional(),
  }),
  (h, report) => {
    if (h.h2UpgradePolicy === 'UPGRADE' && h.useClientProtocol === true) {
      report({ path: ['useClientProtocol'], message: 'useClientProtocol cannot be true when h2UpgradePolicy is UPGRADE: the two contradict each other' });
    }
  },
);
export type HTTPSettings = z.output<typeof HTTPSettings>;

export const ConnectionPoolSettings = rules(
  obj({
    tcp: TCPSettings.optional(),
    http: HTTPSettings.optional(),
  }),
  (c, report) => {
    if (c.tcp === undefined && c.http === undefined) report({ message: 'connection pool must set tcp or http settings' });
  },
);
export type ConnectionPoolSettings = z.output<typeof ConnectionPoolSettings>;
