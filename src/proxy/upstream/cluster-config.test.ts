import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCluster } from './cluster-config.ts';
import { builtinLbRegistry } from './lb/index.ts';
import { lbTypeUrl } from './lb/registry.ts';
import { clusterResource, socketAddress } from './testing.ts';
import { registerBuiltinTransportSockets, TransportSocketRegistry } from './transport-sockets.ts';

const ctx = { lb: builtinLbRegistry(), transportSockets: registerBuiltinTransportSockets(new TransportSocketRegistry()) };
const H2_OPTIONS = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    commonHttpProtocolOptions: { idleTimeout: { seconds: 30 }, maxRequestsPerConnection: { value: 100 } },
    explicitHttpConfig: { http2ProtocolOptions: { maxConcurrentStreams: { value: 50 } } },
  },
};

describe('compileCluster', () => {
  it('compiles an Istio outbound EDS cluster as weft control generates it', () => {
    const { config, problems } = compileCluster(clusterResource({
      name: 'outbound|9080|v2|reviews.default.svc.cluster.local',
      type: 'EDS',
      edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: 'outbound|9080|v2|reviews.default.svc.cluster.local' },
      connectTimeout: { seconds: 10 },
      lbPolicy: 'LEAST_REQUEST',
      circuitBreakers: { thresholds: [{ maxConnections: { value: 4294967295 }, maxPendingRequests: { value: 7 }, maxRequests: { value: 9 }, maxRetries: { value: 4294967295 }, trackRemaining: true }] },
      outlierDetection: { consecutive_5xx: { value: 5 }, interval: { seconds: 10 } },
      commonLbConfig: { healthyPanicThreshold: { value: 30 } },
      typedExtensionProtocolOptions: H2_OPTIONS,
    }), ctx);
    assert.deepEqual(problems, []);
    assert.equal(config.type, 'EDS');
    assert.equal(config.edsServiceName, 'outbound|9080|v2|reviews.default.svc.cluster.local');
    assert.equal(config.connectTimeoutMs, 10_000);
    assert.equal(config.lb?.policy.name, 'LEAST_REQUEST');
    assert.equal(config.panicThreshold, 30);
    assert.deepEqual(config.limits, { maxConnections: 4294967295, maxPendingRequests: 7, maxRequests: 9, maxRetries: 4294967295 });
    assert.equal(config.http.protocol, 'http2');
    assert.equal(config.http.idleTimeoutMs, 30_000);
    assert.equal(config.http.maxRequestsPerConnection, 100);
    assert.equal(config.http.maxConcurrentStreams, 50);
  });

  it('applies Envoy defaults: STATIC, ROUND_ROBIN, 5 s connect timeout, 1024 limits, HTTP/1.1, panic at 50%', () => {
    const { config, problems } = compileCluster(clusterResource({ name: 'plain', loadAssignment: { clusterName: 'plain', endpoints: [{ lbEndpoints: [{ endpoint: socketAddress('127.0.0.1', 8080) }] }] } }), ctx);
    assert.deepEqual(problems, []);
    assert.equal(config.type, 'STATIC');
    assert.equal(config.lb?.policy.name, 'ROUND_ROBIN');
    assert.equal(config.connectTimeoutMs, 5000);
    assert.deepEqual(config.limits, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });
    assert.equal(config.http.protocol, 'http1');
    assert.equal(config.http.idleTimeoutMs, 3_600_000);
    assert.equal(config.panicThreshold, 50);
    assert.equal(config.assignment.groups[0]?.endpoints[0]?.address, '127.0.0.1');
  });

  it('collects every problem in one pass', () => {
    const { problems } = compileCluster({
      name: 'bad',
      type: 'EDS',
      clusterType: { name: 'envoy.clusters.aggregate', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig' } },
      connectTimeout: { seconds: -1 },
      lbPolicy: 'CLUSTER_PROVIDED',
      edsClusterConfig: { edsConfig: { apiConfigSource: { apiType: 'GRPC' } } },
      transportSocket: { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext' } },
      typedExtensionProtocolOptions: {
        'envoy.extensions.filters.network.tcp_proxy': { '@type': 'type.googleapis.com/x.Y' },
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicitHttpConfig: { http3ProtocolOptions: {} },
          httpFilters: [{ name: 'x' }],
        },
      },
      circuitBreakers: { thresholds: [{ maxRequests: { value: -3 } }] },
      lbSubsetConfig: { subsetSelectors: [{ keys: ['version'] }] },
      originalDstLbConfig: { useHttpHeader: true },
      dnsRefreshRate: { seconds: 1 },
    }, ctx);
    assert.deepEqual(problems, [
      'clusterType: custom cluster type "envoy.clusters.aggregate" (type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig) is not supported',
      'connectTimeout: must not be negative (got -1000 ms)',
      'lbPolicy: CLUSTER_PROVIDED is only valid for ORIGINAL_DST clusters (this one is EDS)',
      'lbSubsetConfig: subset load balancing is not supported',
      'transportSocket.typedConfig: unsupported transport socket "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"',
      'edsClusterConfig.edsConfig: only ADS (ads or self) config sources are supported',
      'circuitBreakers.thresholds[0].maxRequests: expected an unsigned 32-bit integer (got -3)',
      'typedExtensionProtocolOptions.envoy.extensions.filters.network.tcp_proxy: unknown protocol options "envoy.extensions.filters.network.tcp_proxy" (supported: envoy.extensions.upstreams.http.v3.HttpProtocolOptions)',
      'typedExtensionProtocolOptions.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.httpFilters: upstream HTTP filters are not supported',
      'typedExtensionProtocolOptions.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.explicitHttpConfig.http3ProtocolOptions: HTTP/3 upstreams are not supported',
      'originalDstLbConfig: only valid for ORIGINAL_DST clusters (this one is EDS)',
    ]);
  });

  it('rejects unknown discovery types and policies by name', () => {
    const { problems } = compileCluster({ name: 'x', type: 'MAGIC', lbPolicy: 'FASTEST' }, ctx);
    assert.deepEqual(problems, [
      'type: unknown value "MAGIC" (expected one of STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST)',
      'lbPolicy: unknown value "FASTEST" (expected one of ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, ORIGINAL_DST_LB, MAGLEV, CLUSTER_PROVIDED, LOAD_BALANCING_POLICY_CONFIG)',
    ]);
    assert.deepEqual(compileCluster({ name: '' }, ctx).problems, ['name: required']);
  });

  it('takes the first supported load_balancing_policy, and rejects a list with none', () => {
    const ok = compileCluster(clusterResource({
      name: 'typed', type: 'EDS',
      loadBalancingPolicy: { policies: [
        { typedExtensionConfig: { name: 'x', typedConfig: { '@type': 'type.googleapis.com/google.protobuf.Struct' } } },
        { typedExtensionConfig: { name: 'rr', typedConfig: { '@type': 'type.googleapis.com/google.protobuf.Empty' } } },
      ] },
    }), ctx);
    assert.deepEqual(ok.problems, ['loadBalancingPolicy.policies: no supported load balancing policy among ["type.googleapis.com/google.protobuf.Struct","type.googleapis.com/google.protobuf.Empty"]']);
    const typed = compileCluster({
      name: 'typed', type: 'EDS',
      loadBalancingPolicy: { policies: [
        { typedExtensionConfig: { name: 'x', typedConfig: { '@type': 'type.googleapis.com/unknown.Policy' } } },
        { typedExtensionConfig: { name: 'maglev', typedConfig: { '@type': lbTypeUrl('maglev.v3.Maglev'), tableSize: { value: 7 } } } },
      ] },
    }, ctx);
    assert.deepEqual(typed.problems, []);
    assert.equal(typed.config.lb?.policy.name, 'MAGLEV');
    assert.deepEqual(typed.config.lb?.config, { tableSize: 7, useHostnameForHashing: false });
  });

  it('checks ORIGINAL_DST, LOGICAL_DNS and STATIC specifics', () => {
    const od = compileCluster(clusterResource({ name: 'PassthroughCluster', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', originalDstLbConfig: { useHttpHeader: true, httpHeaderName: 'X-Envoy-Original-Dst-Host' } }), ctx);
    assert.deepEqual(od.problems, []);
    assert.deepEqual(od.config.originalDst, { useHttpHeader: true, headerName: 'x-envoy-original-dst-host', portOverride: undefined, cleanupIntervalMs: 5000 });
    assert.equal(od.config.lb, undefined);
    assert.deepEqual(compileCluster(clusterResource({ name: 'od', type: 'ORIGINAL_DST' }), ctx).problems, ['lbPolicy: must be CLUSTER_PROVIDED for an ORIGINAL_DST cluster (got ROUND_ROBIN)']);
    const logical = compileCluster(clusterResource({
      name: 'ext', type: 'LOGICAL_DNS',
      loadAssignment: { clusterName: 'ext', endpoints: [{ lbEndpoints: [{ endpoint: socketAddress('a.example', 80) }, { endpoint: socketAddress('b.example', 80) }] }] },
    }), ctx);
    assert.deepEqual(logical.problems, ['loadAssignment: LOGICAL_DNS clusters need exactly one locality with exactly one endpoint']);
    const stat = compileCluster(clusterResource({ name: 's', loadAssignment: { clusterName: 's', endpoints: [{ lbEndpoints: [{ endpoint: socketAddress('not-an-ip', 80) }] }] } }), ctx);
    assert.deepEqual(stat.problems, ['loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address: must be an IP address for this cluster type (got "not-an-ip")']);
  });

  it('reads outlier detection with Envoy\'s defaults, and NACKs bad values naming the field', () => {
    const { config, problems } = compileCluster(clusterResource({
      name: 'od', type: 'EDS',
      outlierDetection: { consecutive_5xx: { value: 2 }, interval: { seconds: 1 }, baseEjectionTime: { seconds: 30 }, maxEjectionPercent: { value: 100 }, enforcingSuccessRate: { value: 0 } },
    }), ctx);
    assert.deepEqual(problems, []);
    const o = config.outlier!;
    assert.equal(o.consecutive5xx, 2);
    assert.equal(o.intervalMs, 1000);
    assert.equal(o.baseEjectionTimeMs, 30_000);
    assert.equal(o.maxEjectionTimeMs, 300_000);
    assert.equal(o.maxEjectionPercent, 100);
    assert.equal(o.consecutiveGatewayFailure, 5);
    assert.deepEqual(o.enforcing, {
      consecutive_5xx: 100, consecutive_gateway_failure: 0, consecutive_local_origin_failure: 100, success_rate: 0,
      local_origin_success_rate: 100, failure_percentage: 0, local_origin_failure_percentage: 0,
    });
    assert.equal(compileCluster(clusterResource({ name: 'none', type: 'EDS' }), ctx).config.outlier, undefined);
    assert.equal(compileCluster(clusterResource({ name: 'long', type: 'EDS', outlierDetection: { baseEjectionTime: { seconds: 600 } } }), ctx).config.outlier?.maxEjectionTimeMs, 600_000, 'the cap is at least the base time');
    const bad = compileCluster({
      name: 'bad', type: 'EDS',
      outlierDetection: {
        consecutive_5xx: { value: -1 }, interval: { seconds: 0 }, baseEjectionTime: { seconds: 10 }, maxEjectionTime: { seconds: 5 },
        maxEjectionPercent: { value: 101 }, enforcingConsecutiveGatewayFailure: { value: 150 }, failurePercentageThreshold: { value: 200 },
        maxEjectionTimeJitter: { seconds: -1 }, monitors: [{ name: 'm' }],
      },
    }, ctx);
    assert.deepEqual(bad.problems, [
      'outlierDetection.monitors: outlier detection extension monitors are not supported',
      'outlierDetection.interval: must be greater than 0',
      'outlierDetection.maxEjectionTime: must not be smaller than baseEjectionTime (5000 ms < 10000 ms)',
      'outlierDetection.maxEjectionTimeJitter: must not be negative (got -1000 ms)',
      'outlierDetection.maxEjectionPercent: must be at most 100 (got 101)',
      'outlierDetection.consecutive_5xx: expected an unsigned 32-bit integer (got -1)',
      'outlierDetection.failurePercentageThreshold: must be at most 100 (got 200)',
      'outlierDetection.enforcingConsecutiveGatewayFailure: must be at most 100 (got 150)',
    ]);
  });

  it('reads DNS settings', () => {
    const { config, problems } = compileCluster(clusterResource({
      name: 'dns', type: 'STRICT_DNS', dnsLookupFamily: 'V4_ONLY', dnsRefreshRate: { nanos: 250_000_000 }, respectDnsTtl: true,
      dnsFailureRefreshRate: { baseInterval: { nanos: 100_000_000 }, maxInterval: { seconds: 2 } },
      loadAssignment: { clusterName: 'dns', endpoints: [{ lbEndpoints: [{ endpoint: socketAddress('localhost', 80) }] }] },
    }), ctx);
    assert.deepEqual(problems, []);
    assert.deepEqual(config.dns, { family: 'V4_ONLY', refreshMs: 250, respectTtl: true, failureBaseMs: 100, failureMaxMs: 2000, resolvers: [] });
  });
});
