/**
 * The HTTP connection manager weft generates for every HTTP listener, and its filter chain. Filters are
 * configured empty here and per route (`typed_per_filter_config`) by route translation, as Istio does:
 * CORS, fault injection, then the router (which must be last).
 */
import { ADS_SOURCE, typed } from './proto-values.ts';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

export function httpFilters(): Record<string, unknown>[] {
  return [
    { name: 'envoy.filters.http.cors', typedConfig: typed('envoy.extensions.filters.http.cors.v3.Cors') },
    { name: 'envoy.filters.http.fault', typedConfig: typed('envoy.extensions.filters.http.fault.v3.HTTPFault') },
    { name: 'envoy.filters.http.router', typedConfig: typed('envoy.extensions.filters.http.router.v3.Router') },
  ];
}

export interface HcmOptions {
  readonly statPrefix: string;
  /** RDS route configuration name, or an inline route configuration. */
  readonly rds?: string;
  readonly routeConfig?: Record<string, unknown>;
  /** Accept CONNECT (the local-mode HTTP proxy listener). */
  readonly connect?: boolean;
  /** Trust and append x-forwarded-for from the edge (gateways). */
  readonly edge?: boolean;
  /** Accept HTTP/1.0 requests (Istio: the proxy's `HTTP10` metadata); Envoy's default answers them 426. */
  readonly http10?: boolean;
}

/** An HTTP connection manager network filter. */
export function httpConnectionManager(o: HcmOptions): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: typed(HCM, {
      statPrefix: o.statPrefix,
      codecType: 'AUTO',
      ...(o.rds !== undefined ? { rds: { routeConfigName: o.rds, configSource: ADS_SOURCE } } : { routeConfig: o.routeConfig }),
      httpFilters: httpFilters(),
      upgradeConfigs: [{ upgradeType: 'websocket' }, ...(o.connect ? [{ upgradeType: 'CONNECT' }] : [])],
      ...(o.connect ? { http2ProtocolOptions: { allowConnect: true } } : {}),
      ...(o.http10 === true ? { httpProtocolOptions: { acceptHttp_10: true } } : {}),
      useRemoteAddress: { value: o.edge === true },
      normalizePath: { value: true },
      pathWithEscapedSlashesAction: 'KEEP_UNCHANGED',
      streamIdleTimeout: { seconds: 0, nanos: 0 },
    }),
  };
}

/** A TCP proxy network filter to one cluster, or weighted clusters. */
export function tcpProxy(statPrefix: string, clusters: readonly { name: string; weight: number }[]): Record<string, unknown> {
  const target = clusters.length === 1
    ? { cluster: clusters[0]!.name }
    : { weightedClusters: { clusters: clusters.map((c) => ({ name: c.name, weight: c.weight })) } };
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typedConfig: typed('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', { statPrefix, ...target }),
  };
}
