/**
 * Hand-written Envoy config for the simulator's tests: a sidecar in local mode (the HTTP proxy
 * listener `virtualOutbound` on 15001 routed by authority, an inbound listener), a TLS listener with
 * SNI filter chains, a TCP listener and a proxyless gRPC api_listener. Written in the plain camelCase
 * form, and valid for Envoy's protos (the tests encode it).
 */
import type { ProxyConfig } from './types.ts';
import { FILTER_TYPE } from '../../xds/type-urls.ts';

const HCM = FILTER_TYPE.httpConnectionManager;
const TCP = FILTER_TYPE.tcpProxy;
const ADS = { ads: {}, resourceApiVersion: 'V3' };

function hcm(fields: Record<string, unknown>): Record<string, unknown> {
  return { name: 'envoy.filters.network.http_connection_manager', typedConfig: { '@type': HCM, statPrefix: 'http', ...fields } };
}

function eds(name: string): Record<string, unknown> {
  return { name, type: 'EDS', edsClusterConfig: { edsConfig: ADS } };
}

function cla(name: string, ...endpoints: Array<[string, number, string?]>): Record<string, unknown> {
  return {
    clusterName: name,
    endpoints: [{
      lbEndpoints: endpoints.map(([address, portValue, health]) => ({
        endpoint: { address: { socketAddress: { address, portValue } } },
        ...(health !== undefined ? { healthStatus: health } : {}),
      })),
    }],
  };
}

const R1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const R2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';
const RATINGS = 'outbound|9080||ratings.default.svc.cluster.local';

export const CLUSTERS = { R1, R2, RATINGS };

const outboundRoutes = {
  name: '15001',
  virtualHosts: [
    {
      name: 'reviews.default.svc.cluster.local:9080',
      domains: ['reviews.default.svc.cluster.local:9080', 'reviews:9080', 'reviews.default:9080'],
      routes: [
        { name: 'jason', match: { prefix: '/', caseSensitive: { value: true }, headers: [{ name: 'end-user', stringMatch: { exact: 'jason' } }] }, route: { cluster: R2 } },
        { name: 'api', match: { pathSeparatedPrefix: '/api', caseSensitive: { value: false } }, route: { cluster: R1 } },
        {
          name: 'split', match: { prefix: '/' },
          route: { weightedClusters: { clusters: [{ name: R1, weight: { value: 80 } }, { name: R2, weight: { value: 20 } }] } },
        },
      ],
    },
    {
      name: 'ratings.default.svc.cluster.local:9080',
      domains: ['ratings:9080', 'ratings.default.svc.cluster.local:9080'],
      routes: [
        { name: 'moved', match: { path: '/old' }, redirect: { pathRedirect: '/new', responseCode: 'FOUND' } },
        { name: 'teapot', match: { safeRegex: { regex: '/tea/[0-9]+' }, queryParameters: [{ name: 'brew', presentMatch: true }] }, directResponse: { status: 418, body: { inlineString: 'short and stout' } } },
        { name: 'missing', match: { prefix: '/missing' }, route: { cluster: 'outbound|9080||nowhere.default.svc.cluster.local' } },
        { name: 'default', match: { prefix: '/' }, route: { cluster: RATINGS }, responseHeadersToAdd: [{ header: { key: 'x-weft-route', value: 'default' } }] },
      ],
    },
    { name: 'wild', domains: ['*.example.com', 'api.*'], routes: [{ name: 'wild', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }] },
    {
      name: 'allow_any', domains: ['*'],
      routes: [
        { name: 'allow_any_connect', match: { connectMatcher: {} }, route: { cluster: 'PassthroughCluster', upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] } },
        { name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } },
      ],
    },
  ],
};

export function sidecarConfig(): ProxyConfig {
  return {
    listeners: {
      virtualOutbound: {
        name: 'virtualOutbound',
        address: { socketAddress: { address: '127.0.1.1', portValue: 15001 } },
        filterChains: [{ name: 'virtualOutbound', filters: [hcm({ rds: { routeConfigName: '15001', configSource: ADS } })] }],
      },
      '127.0.1.1_9080': {
        name: '127.0.1.1_9080',
        address: { socketAddress: { address: '127.0.1.1', portValue: 9080 } },
        filterChains: [{
          name: 'inbound|9080||',
          filters: [hcm({ routeConfig: { name: 'inbound|9080||', virtualHosts: [{ name: 'inbound', domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'inbound|9080||' } }] }] } })],
        }],
      },
      '0.0.0.0_443': {
        name: '0.0.0.0_443',
        address: { socketAddress: { address: '0.0.0.0', portValue: 443 } },
        listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }],
        filterChains: [
          { name: 'exact', filterChainMatch: { serverNames: ['a.example.com'], transportProtocol: 'tls' }, filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP, statPrefix: 'a', cluster: RATINGS } }] },
          { name: 'wildcard', filterChainMatch: { serverNames: ['*.example.com'], transportProtocol: 'tls' }, filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP, statPrefix: 'w', cluster: R1 } }] },
          { name: 'plain', filterChainMatch: { transportProtocol: 'raw_buffer' }, filters: [hcm({ rds: { routeConfigName: '15001', configSource: ADS } })] },
        ],
      },
      '0.0.0.0_3306': {
        name: '0.0.0.0_3306',
        address: { socketAddress: { address: '0.0.0.0', portValue: 3306 } },
        filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP, statPrefix: 'db', weightedClusters: { clusters: [{ name: R1, weight: 3 }, { name: R2, weight: 1 }] } } }] }],
      },
    },
    routes: { '15001': outboundRoutes },
    clusters: {
      [R1]: eds(R1), [R2]: eds(R2), [RATINGS]: eds(RATINGS),
      'inbound|9080||': { name: 'inbound|9080||', type: 'STATIC', loadAssignment: cla('inbound|9080||', ['127.0.0.1', 39080]) },
      PassthroughCluster: { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' },
    },
    endpoints: {
      [R1]: cla(R1, ['127.0.1.2', 9080]),
      [R2]: cla(R2, ['127.0.1.3', 9080], ['127.0.1.4', 9080, 'UNHEALTHY']),
      [RATINGS]: cla(RATINGS, ['127.0.1.5', 9080], ['127.0.1.6', 9080, 'HEALTHY']),
    },
  };
}

/** A proxyless gRPC client's resources: an api_listener per target, RDS of the same name. */
export function grpcConfig(): ProxyConfig {
  const target = 'reviews.default.svc.cluster.local:9080';
  return {
    listeners: { [target]: { name: target, apiListener: { apiListener: { '@type': HCM, rds: { routeConfigName: target, configSource: ADS } } } } },
    routes: { [target]: { name: target, virtualHosts: [{ name: target, domains: [target, 'reviews:9080'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: R1 } }] }] } },
    clusters: { [R1]: eds(R1) },
    endpoints: { [R1]: cla(R1, ['127.0.1.2', 9080]) },
  };
}
