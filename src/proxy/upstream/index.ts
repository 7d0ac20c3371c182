/**
 * The upstream side of the proxy: cluster manager (CDS/EDS handlers, `ClusterHandle`s), load
 * balancers, connection pools, and the admin views. Wiring creates one `ClusterManagerImpl`, registers
 * its `cdsHandler` and `edsHandler` with the xDS client, and hands it to network filters as `clusters`.
 */
export { ClusterManagerImpl } from './cluster-manager.ts';
export type { ClusterManagerOptions, EndpointsEntry } from './cluster-manager.ts';
export { Cluster } from './cluster.ts';
export type { ClusterConfig, DiscoveryType } from './cluster-config.ts';
export { compileCluster } from './cluster-config.ts';
export { clustersConfigDump, clustersJson, clustersText, endpointsConfigDump } from './admin.ts';
export type { DumpVersions } from './admin.ts';
export { UpstreamError, responseFlag } from './errors.ts';
export type { UpstreamErrorCode } from './errors.ts';
export { HostImpl } from './host.ts';
export { builtinLbRegistry, LbRegistry, registerBuiltins } from './lb/index.ts';
export type { LbEnv, LbPolicy } from './lb/index.ts';
export { registerBuiltinTransportSockets, TransportSocketRegistry } from './transport-sockets.ts';
export type { UpstreamTransportSocketFactory } from './transport-sockets.ts';
export { systemResolver } from './dns.ts';
export type { DnsAnswer, DnsResolver } from './dns.ts';
export { CLUSTER_COUNTERS, CLUSTER_GAUGES } from './cluster-stats.ts';
