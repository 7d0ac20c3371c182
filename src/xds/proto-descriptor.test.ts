import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { XdsError } from './errors.ts';
import { buildDescriptor, DESCRIPTOR_FILES, readDescriptor } from './proto-descriptor.ts';
import { includeDirs, resolveImportsIn, WELL_KNOWN } from './proto-source.ts';
import { decodeResource, encodeResource, messageType, protoRoot } from './protos.ts';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** Resources touching what a descriptor could get wrong: packed repeated scalars, maps, oneofs, enums, wrappers, durations, Any in Any. */
const SAMPLES: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['envoy.config.route.v3.RouteConfiguration', {
    name: '9080',
    virtualHosts: [{
      name: 'reviews:9080', domains: ['reviews', 'reviews:9080'],
      routes: [{
        match: { prefix: '/', headers: [{ name: 'end-user', stringMatch: { exact: 'jason' }, invertMatch: true }] },
        route: {
          weightedClusters: { clusters: [{ name: 'a', weight: { value: 90 } }, { name: 'b', weight: { value: 10 } }] },
          timeout: { seconds: 2, nanos: 500_000_000 },
          retryPolicy: { retryOn: '5xx', numRetries: { value: 3 }, retriableStatusCodes: [503, 504, 429], perTryTimeout: { nanos: 250_000_000 } },
        },
        typedPerFilterConfig: { 'envoy.filters.http.fault': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { httpStatus: 503, percentage: { numerator: 10, denominator: 'HUNDRED' } } } },
      }],
    }],
  }],
  ['envoy.config.cluster.v3.Cluster', {
    name: 'outbound|9080|v1|reviews.default.svc.cluster.local', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } },
    connectTimeout: { seconds: 10 }, lbPolicy: 'LEAST_REQUEST', circuitBreakers: { thresholds: [{ maxConnections: { value: 100 }, maxPendingRequests: { value: 7 } }] },
    outlierDetection: { consecutive_5xx: { value: 5 }, interval: { seconds: 10 }, maxEjectionPercent: { value: 100 } },
    metadata: { filterMetadata: { istio: { services: [{ host: 'reviews.default.svc.cluster.local' }] } } },
    typedExtensionProtocolOptions: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicitHttpConfig: { http2ProtocolOptions: {} } } },
  }],
  ['envoy.config.endpoint.v3.ClusterLoadAssignment', {
    clusterName: 'c',
    endpoints: [{ locality: { region: 'r', zone: 'z' }, loadBalancingWeight: { value: 3 }, lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.1.2', portValue: 9080 } } }, healthStatus: 'HEALTHY', loadBalancingWeight: { value: 2 } }] }],
  }],
  ['envoy.config.listener.v3.Listener', {
    name: 'virtualOutbound', address: { socketAddress: { address: '127.0.1.2', portValue: 15001 } },
    listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }],
    filterChains: [{
      filterChainMatch: { destinationPort: { value: 9080 }, applicationProtocols: ['http/1.1', 'h2c'], serverNames: ['a.example'] },
      filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: { '@type': `type.googleapis.com/${HCM}`, statPrefix: 's', rds: { routeConfigName: '9080', configSource: { ads: {}, resourceApiVersion: 'V3' } }, httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }] } }],
    }],
  }],
];

describe('proto descriptor', () => {
  it('is what the .proto files say (after upgrading @grpc/grpc-js-xds or editing DESCRIPTOR_FILES, run npm run gen:descriptor)', () => {
    const shipped = readDescriptor();
    assert.ok(shipped !== undefined, 'src/xds/envoy-descriptor.json is missing: run npm run gen:descriptor');
    assert.deepEqual(shipped, JSON.parse(JSON.stringify(buildDescriptor())), 'src/xds/envoy-descriptor.json is stale: run npm run gen:descriptor');
    for (const f of DESCRIPTOR_FILES) assert.ok(shipped.files.includes(f), f);
  });

  it('encodes and decodes every sample exactly as types parsed from .proto do', () => {
    const parsed = new protobuf.Root();
    resolveImportsIn(parsed, includeDirs());
    parsed.loadSync([...WELL_KNOWN, ...DESCRIPTOR_FILES], { keepCase: false });
    for (const [name, sample] of SAMPLES) {
      const fromDescriptor = encodeResource(name, sample);
      const type = parsed.lookupType(name);
      const fromProto = type.encode(type.fromObject(sample)).finish();
      assert.deepEqual(Buffer.from(fromDescriptor), Buffer.from(fromProto), name);
      assert.deepEqual(decodeResource(name, fromDescriptor), type.toObject(type.decode(fromProto), { enums: String, longs: Number, bytes: String, json: true }), name);
    }
  });

  it('serves the sidecar types without parsing their files, and still loads other files lazily beside them', () => {
    assert.ok(messageType(HCM));
    // RBAC's file imports files the descriptor already covers (core, route matchers): they must not be parsed again.
    const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';
    const policy = { rules: { action: 'ALLOW', policies: { p: { permissions: [{ header: { name: ':path', stringMatch: { prefix: '/api' } } }], principals: [{ any: true }] } } } };
    const back = decodeResource(RBAC, encodeResource(RBAC, policy)) as any;
    assert.equal(back.rules.policies.p.permissions[0].header.stringMatch.prefix, '/api');
    assert.ok(protoRoot().lookup('envoy.config.rbac.v3.Policy') !== null);
  });

  it('reports an unreadable descriptor by its path, and treats a missing one as absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-descriptor-'));
    assert.equal(readDescriptor(pathToFileURL(join(dir, 'none.json'))), undefined);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"files": [');
    assert.throws(() => readDescriptor(pathToFileURL(bad)), (err: unknown) => err instanceof XdsError && err.code === 'XDS_PROTO_LOAD' && err.message.includes(bad) && err.message.includes('gen:descriptor'));
    writeFileSync(bad, '{"nested": {}}');
    assert.throws(() => readDescriptor(pathToFileURL(bad)), /lacks "files" or "nested"/);
  });
});
