/**
 * The `envoy.service.discovery.v3.AggregatedDiscoveryService` gRPC service by name: its two methods'
 * paths, as the control plane serves them and the proxy (and the benchmark's sidecars) call them.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/discovery/v3/ads.proto
 */

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
/** State of the world. */
export const SOTW_ADS_PATH = `/${ADS_SERVICE}/StreamAggregatedResources`;
/** Incremental. */
export const DELTA_ADS_PATH = `/${ADS_SERVICE}/DeltaAggregatedResources`;
