/**
 * The cluster manager's admin views, in Envoy's formats: `/clusters` (text, and `?format=json`) and
 * the clusters and endpoints parts of `/config_dump`. The admin endpoint (later) serves them; they are
 * functions of the manager's current state and allocate freely (not a hot path).
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--clusters
 */
import { resourceDumpJson } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import type { Proto } from '../core/contracts.ts';
import type { Cluster } from './cluster.ts';
import type { ClusterManagerImpl } from './cluster-manager.ts';
import { DEFAULT_LIMITS } from './cluster-config.ts';
import type { CircuitBreakerLimits } from './cluster-config.ts';
import type { HealthStatus } from './endpoints.ts';
import type { HostImpl } from './host.ts';

function edsFlag(status: HealthStatus): string {
  switch (status) {
    case 'UNHEALTHY':
    case 'TIMEOUT':
      return '/failed_eds_health';
    case 'DRAINING':
      return '/eds_status_draining';
    case 'DEGRADED':
      return '/degraded_eds_health';
    default:
      return '';
  }
}

/**
 * Envoy's `HostUtility::healthFlagsToString` for the flags weft sets: outlier ejection and EDS health,
 * in Envoy's flag order (`/failed_outlier_check/failed_eds_health`), or `healthy` when none is set.
 */
export function healthFlags(status: HealthStatus, ejected = false): string {
  return `${ejected ? '/failed_outlier_check' : ''}${edsFlag(status)}` || 'healthy';
}

/** A double as fmt's `{:g}` writes it (six significant digits). */
function g(n: number): string {
  return String(Number(n.toPrecision(6)));
}

function limitLines(name: string, priority: string, l: CircuitBreakerLimits): string[] {
  return [
    `${name}::${priority}_priority::max_connections::${l.maxConnections}`,
    `${name}::${priority}_priority::max_pending_requests::${l.maxPendingRequests}`,
    `${name}::${priority}_priority::max_requests::${l.maxRequests}`,
    `${name}::${priority}_priority::max_retries::${l.maxRetries}`,
  ];
}

/** Host stats in Envoy's order (alphabetical, counters and gauges together). */
function hostStats(h: HostImpl): [string, number][] {
  const c = h.state.counters;
  return [
    ['cx_active', c.cxActive], ['cx_connect_fail', c.cxConnectFail], ['cx_total', c.cxTotal], ['rq_active', c.rqActive],
    ['rq_error', c.rqError], ['rq_success', c.rqSuccess], ['rq_timeout', c.rqTimeout], ['rq_total', c.rqTotal],
  ];
}

function hostLines(name: string, h: HostImpl): string[] {
  const p = `${name}::${h.addressString}`;
  return [
    ...hostStats(h).map(([k, v]) => `${p}::${k}::${v}`),
    `${p}::hostname::${h.hostname}`,
    `${p}::health_flags::${healthFlags(h.health, h.ejected)}`,
    `${p}::weight::${h.weight}`,
    `${p}::region::${h.localityInfo.region}`,
    `${p}::zone::${h.localityInfo.zone}`,
    `${p}::sub_zone::${h.localityInfo.subZone}`,
    `${p}::canary::false`,
    `${p}::priority::${h.priority}`,
    `${p}::success_rate::${h.outlier?.external.rate ?? -1}`,
    `${p}::local_origin_success_rate::${h.outlier?.local.rate ?? -1}`,
  ];
}

/** Envoy prints the success-rate figures of clusters with outlier detection. */
function outlierLines(c: Cluster): string[] {
  const d = c.outlierDetector;
  if (d === undefined) return [];
  const ext = d.successRate('external');
  const local = d.successRate('local');
  return [
    `${c.name}::outlier::success_rate_average::${g(ext.average)}`,
    `${c.name}::outlier::success_rate_ejection_threshold::${g(ext.threshold)}`,
    `${c.name}::outlier::local_origin_success_rate_average::${g(local.average)}`,
    `${c.name}::outlier::local_origin_success_rate_ejection_threshold::${g(local.threshold)}`,
  ];
}

function clusterLines(c: Cluster): string[] {
  const name = c.name;
  return [
    `${name}::observability_name::${c.config.statName}`,
    ...outlierLines(c),
    ...limitLines(name, 'default', c.config.limits),
    ...limitLines(name, 'high', DEFAULT_LIMITS),
    `${name}::added_via_api::true`,
    ...(c.config.type === 'EDS' ? [`${name}::eds_service_name::${c.config.edsServiceName ?? name}`] : []),
    ...c.hosts().flatMap((h) => hostLines(name, h)),
  ];
}

/** `/clusters` as text. */
export function clustersText(manager: ClusterManagerImpl): string {
  const lines = manager.clusters().sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap(clusterLines);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function thresholds(priority: string, l: CircuitBreakerLimits): Record<string, unknown> {
  return { priority, max_connections: l.maxConnections, max_pending_requests: l.maxPendingRequests, max_requests: l.maxRequests, max_retries: l.maxRetries };
}

function socketAddress(h: HostImpl): Record<string, unknown> {
  return { socket_address: { address: h.address, port_value: h.port } };
}

/** The success-rate ejection thresholds of the last interval, when outlier detection computed them. */
function ejectionThresholds(c: Cluster): Record<string, unknown> {
  const d = c.outlierDetector;
  if (d === undefined) return {};
  const ext = d.successRate('external').threshold;
  const local = d.successRate('local').threshold;
  return {
    ...(ext > 0 ? { success_rate_ejection_threshold: { value: ext } } : {}),
    ...(local > 0 ? { local_origin_success_rate_ejection_threshold: { value: local } } : {}),
  };
}

/** `/clusters?format=json`: envoy.admin.v3.Clusters. */
export function clustersJson(manager: ClusterManagerImpl): Record<string, unknown> {
  return {
    cluster_statuses: manager.clusters().map((c) => ({
      name: c.name,
      observability_name: c.config.statName,
      added_via_api: true,
      ...(c.config.type === 'EDS' ? { eds_service_name: c.config.edsServiceName ?? c.name } : {}),
      circuit_breakers: { thresholds: [thresholds('DEFAULT', c.config.limits), thresholds('HIGH', DEFAULT_LIMITS)] },
      ...ejectionThresholds(c),
      host_statuses: c.hosts().map((h) => ({
        address: socketAddress(h),
        stats: hostStats(h).map(([name, value]) => ({ name, value, type: name.endsWith('_active') ? 'GAUGE' : 'COUNTER' })),
        health_status: { eds_health_status: h.health === 'UNKNOWN' ? 'HEALTHY' : h.health, ...(h.ejected ? { failed_outlier_check: true } : {}) },
        ...((h.outlier?.external.rate ?? -1) >= 0 ? { success_rate: { value: h.outlier!.external.rate } } : {}),
        ...((h.outlier?.local.rate ?? -1) >= 0 ? { local_origin_success_rate: { value: h.outlier!.local.rate } } : {}),
        weight: h.weight,
        hostname: h.hostname,
        priority: h.priority,
        locality: { region: h.localityInfo.region, zone: h.localityInfo.zone, sub_zone: h.localityInfo.subZone },
      })),
    })),
  };
}

export interface DumpVersions {
  /** The CDS version in force (the xDS client knows it). */
  readonly clusters?: string;
  /** The EDS version of a ClusterLoadAssignment, by name. */
  readonly endpoints?: (name: string) => string | undefined;
  /** Which resources to show, by name (`/config_dump?name_regex=`); default all. */
  readonly named?: (name: string) => boolean;
}

const everyName = (): boolean => true;

/** The clusters part of `/config_dump`: envoy.admin.v3.ClustersConfigDump. */
export function clustersConfigDump(manager: ClusterManagerImpl, versions: DumpVersions = {}): Record<string, unknown> {
  const warming = new Set(manager.warming());
  const entry = (c: Cluster): Record<string, unknown> => ({
    ...(versions.clusters !== undefined ? { version_info: versions.clusters } : {}),
    cluster: resourceDumpJson(TYPE.cluster, c.config.resource),
    last_updated: new Date(c.createdAt).toISOString(),
  });
  const clusters = manager.clusters().filter((c) => (versions.named ?? everyName)(c.name));
  return {
    '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
    ...(versions.clusters !== undefined ? { version_info: versions.clusters } : {}),
    static_clusters: [],
    dynamic_active_clusters: clusters.filter((c) => !warming.has(c.name)).map(entry),
    dynamic_warming_clusters: clusters.filter((c) => warming.has(c.name)).map(entry),
  };
}

/** The endpoints part of `/config_dump?include_eds`: envoy.admin.v3.EndpointsConfigDump. */
export function endpointsConfigDump(manager: ClusterManagerImpl, versions: DumpVersions = {}): Record<string, unknown> {
  const named = versions.named ?? everyName;
  const statics = manager.clusters().filter((c) => (c.config.type === 'STATIC' || c.config.type === 'STRICT_DNS' || c.config.type === 'LOGICAL_DNS') && named(c.name));
  return {
    '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
    static_endpoint_configs: statics.map((c) => ({
      endpoint_config: resourceDumpJson(TYPE.endpoint, { clusterName: c.name, ...((c.config.resource['loadAssignment'] as Proto | undefined) ?? {}) }),
    })),
    dynamic_endpoint_configs: [...manager.endpoints()].filter(([name]) => named(name)).map(([name, e]) => {
      const version = versions.endpoints?.(name);
      return {
        ...(version !== undefined ? { version_info: version } : {}),
        endpoint_config: resourceDumpJson(TYPE.endpoint, e.resource),
        last_updated: new Date(e.updatedAt).toISOString(),
      };
    }),
  };
}
