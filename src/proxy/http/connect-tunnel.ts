/**
 * CONNECT terminated at the proxy (a route with `upgrade_configs: CONNECT` and `connect_config`): picks
 * a host of the route's cluster (an ORIGINAL_DST cluster takes the CONNECT authority), opens a TCP
 * connection with `ClusterHandle.connect`, answers 200 and splices the two. This is the local-mode
 * HTTP proxy's `CONNECT host:port` (HTTPS through `HTTP_PROXY`).
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/upgrades#connect-support
 */
import type { ClusterHandle } from '../core/contracts.ts';
import type { ActiveStream } from './active-stream.ts';
import { clusterStats } from './cluster-stats.ts';
import { authorityWithPort } from './headers.ts';
import { FLAG } from './stream-info.ts';
import { errorName, overflowReply } from './upstream-attempt.ts';

/** Starts the tunnel; returns a function that abandons it (the stream ended first). */
export function connectTunnel(s: ActiveStream, cluster: ClusterHandle, suppressEnvoyHeaders: boolean): () => void {
  const stats = clusterStats(cluster);
  s.info.cluster = cluster.name;
  if (!cluster.admit()) {
    s.sendLocalReply(overflowReply(cluster.name, suppressEnvoyHeaders));
    return () => {};
  }
  const host = cluster.pick({ originalDestination: authorityWithPort(s.request.authority, 'https') });
  if (host === undefined) {
    stats.cxNoneHealthy.value++;
    s.sendLocalReply({ status: 503, flags: FLAG.UH, details: 'no_healthy_upstream', cause: `no healthy upstream in ${cluster.name}` });
    return () => {};
  }
  s.info.upstreamHost = `${host.address}:${host.port}`;
  s.info.attempts = 1;
  stats.rqTotal.value++;
  let abandoned = false;
  cluster.connect(host).then((socket) => {
    if (abandoned || s.done) {
      socket.destroy();
      return;
    }
    s.acceptTunnel(200, {}, socket);
  }, (err: unknown) => {
    if (abandoned) return;
    s.sendLocalReply({ status: 503, flags: FLAG.UF, details: 'upstream_reset_before_response_started{connection_failure}', cause: `upstream connect error to ${host.address}:${host.port} in ${cluster.name}: ${errorName(err as Error)}` });
  });
  return () => {
    abandoned = true;
  };
}
