/**
 * From a cluster name to the endpoints Envoy would balance over: EDS clusters read the
 * ClusterLoadAssignment named by `eds_cluster_config.service_name` (or the cluster's name), other
 * discovery types their inline `load_assignment`, and ORIGINAL_DST clusters (Passthrough) the
 * connection's original destination. Unhealthy, draining and timed-out endpoints take no traffic.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto
 */
import { addressString, enumName, list, obj, str } from './plain.ts';
import type { Call, ClusterTarget, Plain, ProxyConfig } from './types.ts';

const DISCOVERY_TYPES = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'];
const HEALTH = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'];
const NO_TRAFFIC = new Set(['UNHEALTHY', 'DRAINING', 'TIMEOUT']);

function assignmentEndpoints(cla: Plain | undefined): string[] {
  const out: string[] = [];
  for (const locality of list(cla?.['endpoints'])) {
    for (const lb of list(locality['lbEndpoints'])) {
      if (NO_TRAFFIC.has(enumName(lb['healthStatus'], HEALTH) ?? 'UNKNOWN')) continue;
      const address = addressString(obj(lb['endpoint'])?.['address']);
      if (address !== undefined) out.push(address);
    }
  }
  return out;
}

function clusterEndpoints(cluster: Plain, name: string, config: ProxyConfig, call: Call): string[] {
  const type = enumName(cluster['type'], DISCOVERY_TYPES) ?? (cluster['edsClusterConfig'] !== undefined ? 'EDS' : 'STATIC');
  if (type === 'EDS') {
    const service = str(obj(cluster['edsClusterConfig'])?.['serviceName']) || name;
    return assignmentEndpoints(config.endpoints?.[service]);
  }
  if (type === 'ORIGINAL_DST') return [`${call.address ?? '<original destination>'}:${call.port}`];
  return assignmentEndpoints(obj(cluster['loadAssignment']));
}

/** The target for cluster `name` with `weight`; `exists` is false when the proxy has no such cluster. */
export function clusterTarget(name: string, weight: number, config: ProxyConfig, call: Call): ClusterTarget {
  const cluster = config.clusters?.[name];
  if (cluster === undefined) return { name, weight, exists: false, endpoints: [] };
  return { name, weight, exists: true, endpoints: clusterEndpoints(cluster, name, config, call) };
}
