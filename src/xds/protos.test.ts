import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XdsEncodeError, XdsError } from './errors.ts';
import {
  contentVersion, decodeResource, encodeResource, findMessageType, jsToStruct, loadProtos, messageType, protoRoot, resourceToJson, structToJs,
} from './protos.ts';
import { TYPE } from './type-urls.ts';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

function listener(): Record<string, unknown> {
  return {
    name: '0.0.0.0_9080',
    address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } },
    filterChains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typedConfig: {
          '@type': HCM,
          statPrefix: 'outbound_0.0.0.0_9080',
          rds: { routeConfigName: '9080', configSource: { ads: {}, resourceApiVersion: 'V3' } },
          httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }],
        },
      }],
    }],
  };
}

function encodeError(fn: () => unknown): XdsEncodeError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof XdsEncodeError, `expected XdsEncodeError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an encode error');
}

describe('protos', () => {
  it('loads a type with its file on first use, also when it is only named inside an Any', () => {
    const VH = 'envoy.config.route.v3.VirtualHost';
    const LUA = 'envoy.extensions.filters.http.lua.v3.Lua';
    const BUFFER = 'envoy.extensions.filters.http.buffer.v3.Buffer';
    assert.equal(protoRoot().lookup(LUA), null, 'not loaded before anything asks for it');
    assert.equal(protoRoot().lookup(BUFFER), null);
    const vh = { name: 'v', domains: ['*'], typedPerFilterConfig: { 'envoy.filters.http.lua': { '@type': `type.googleapis.com/${LUA}`, defaultSourceCode: { inlineString: 'x' } } } };
    const back = decodeResource(VH, encodeResource(VH, vh)) as any;
    assert.equal(back.typedPerFilterConfig['envoy.filters.http.lua'].defaultSourceCode.inlineString, 'x');
    assert.ok(protoRoot().lookup(LUA) !== null, 'loaded for the Any');
    // Decoding (toObject) and proto3 JSON both expand an Any whose type nothing loaded before.
    const buffer = { name: 'v', domains: ['*'], typedPerFilterConfig: { b: { '@type': `type.googleapis.com/${BUFFER}`, maxRequestBytes: { value: 5 } } } };
    const json = resourceToJson(VH, encodeResource(VH, buffer)) as any;
    assert.deepEqual(json.typed_per_filter_config.b, { '@type': `type.googleapis.com/${BUFFER}`, max_request_bytes: 5 });
    // proto3 JSON (config_dump) of bytes whose Any names a type nothing loaded yet.
    const GZIP = 'envoy.extensions.filters.http.gzip.v3.Gzip';
    assert.equal(protoRoot().lookup(GZIP), null);
    const rawAny = { type_url: `type.googleapis.com/${GZIP}`, value: Uint8Array.of(0x0a, 0x02, 0x08, 0x07) }; // memory_level: {value: 7}
    const vhType = messageType(VH);
    const raw = vhType.encode(vhType.fromObject({ name: 'v', domains: ['*'], typedPerFilterConfig: { g: rawAny } })).finish();
    assert.deepEqual((resourceToJson(VH, raw) as any).typed_per_filter_config.g, { '@type': `type.googleapis.com/${GZIP}`, memory_level: 7 });
    assert.ok(loadProtos().ms > 0);
  });

  it('loads the listed protos and the well-known types', () => {
    const { ms } = loadProtos();
    assert.ok(ms > 0);
    for (const name of [
      TYPE.listener, TYPE.route, TYPE.cluster, TYPE.endpoint, TYPE.secret, HCM, ROUTER,
      'envoy.service.discovery.v3.DiscoveryRequest', 'envoy.service.discovery.v3.DeltaDiscoveryResponse',
      'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', 'envoy.extensions.filters.http.fault.v3.HTTPFault',
      'envoy.extensions.filters.http.cors.v3.Cors', 'envoy.extensions.filters.http.rbac.v3.RBAC',
      'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
      'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
      'envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions', 'envoy.config.core.v3.HealthCheck',
      'google.protobuf.Struct', 'google.protobuf.UInt32Value', 'google.protobuf.Duration',
    ]) assert.ok(findMessageType(name), name);
  });

  it('round-trips a listener with Any nested inside Any', () => {
    const bytes = encodeResource(TYPE.listener, listener());
    const back = decodeResource(TYPE.listener, bytes) as any;
    const hcm = back.filterChains[0].filters[0].typedConfig;
    assert.equal(hcm['@type'], HCM);
    assert.equal(hcm.rds.routeConfigName, '9080');
    assert.equal(hcm.rds.configSource.resourceApiVersion, 'V3');
    assert.equal(hcm.httpFilters[0].typedConfig['@type'], ROUTER);
    assert.equal(back.address.socketAddress.portValue, 9080);
  });

  it('accepts a message name as well as a type URL, enum numbers and 64-bit integers as strings', () => {
    const bytes = encodeResource('envoy.config.cluster.v3.Cluster', {
      name: 'c', type: 3, connectTimeout: { seconds: '5', nanos: 1 }, lbPolicy: 'RANDOM',
    });
    const back = decodeResource(TYPE.cluster, bytes);
    assert.deepEqual(back, { name: 'c', type: 'EDS', connectTimeout: { seconds: 5, nanos: 1 }, lbPolicy: 'RANDOM' });
  });

  it('names the type and every problem when an object does not fit', () => {
    const err = encodeError(() => encodeResource(TYPE.cluster, {
      name: 'c',
      lb_policy: 'ROUND_ROBIN',
      type: 'NOPE',
      connectTimeout: 5,
      edsClusterConfig: { edsConfig: { ads: {}, path: '/x' } },
      typedExtensionProtocolOptions: { x: { '@type': 'type.googleapis.com/not.Loaded' } },
      loadAssignment: { endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { portValue: -1 } } } }] }] },
    }));
    assert.equal(err.code, 'XDS_ENCODE');
    assert.equal(err.typeName, 'envoy.config.cluster.v3.Cluster');
    assert.match(err.message, /envoy\.config\.cluster\.v3\.Cluster/);
    const text = err.problems.join('\n');
    assert.match(text, /^lb_policy: unknown field .*write camelCase: 'lbPolicy'/m);
    assert.match(text, /^type: unknown DiscoveryType value 'NOPE'/m);
    assert.match(text, /^connectTimeout: google\.protobuf\.Duration object expected, got 5/m);
    assert.match(text, /^edsClusterConfig\.edsConfig\.path: oneof 'configSourceSpecifier' already set by 'ads'/m);
    assert.match(text, /typedExtensionProtocolOptions\["x"\]\.@type: unknown message type/m);
    assert.match(text, /lbEndpoints\[0\]\.endpoint\.address\.socketAddress\.portValue: unsigned 32-bit integer expected/m);
    assert.equal(err.problems.length, 6);
  });

  it('checks the fields inside an Any against the named type', () => {
    const bad = listener() as any;
    bad.filterChains[0].filters[0].typedConfig.statPrefx = 'x';
    bad.filterChains[0].filters[0].typedConfig.httpFilters[0].typedConfig.dynamicStats = 'yes';
    const err = encodeError(() => encodeResource(TYPE.listener, bad));
    assert.deepEqual(err.problems.toSorted(), [
      'filterChains[0].filters[0].typedConfig.httpFilters[0].typedConfig.dynamicStats: google.protobuf.BoolValue object expected, got "yes"',
      'filterChains[0].filters[0].typedConfig.statPrefx: unknown field of envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    ]);
  });

  it('rejects a non-object and lists, where they do not belong', () => {
    assert.match(encodeError(() => encodeResource(TYPE.route, 'x')).message, /\(root\): .*RouteConfiguration object expected/);
    assert.match(encodeError(() => encodeResource(TYPE.route, { virtualHosts: {} })).message, /virtualHosts: list expected/);
    assert.match(encodeError(() => encodeResource(TYPE.route, { name: ['a'] })).message, /name: string expected, got a list/);
  });

  it('throws XDS_UNKNOWN_TYPE for types that are not loaded and XDS_DECODE for malformed bytes', () => {
    assert.throws(() => messageType('type.googleapis.com/not.a.Type'), (e: unknown) => e instanceof XdsError && e.code === 'XDS_UNKNOWN_TYPE');
    assert.throws(() => decodeResource(TYPE.cluster, new Uint8Array([0x0a, 0xff])), (e: unknown) => e instanceof XdsError && e.code === 'XDS_DECODE');
  });

  it('renders proto3 JSON under the proto field names as Envoy config_dump does', () => {
    const bytes = encodeResource(TYPE.cluster, {
      name: 'c',
      connectTimeout: { seconds: 1, nanos: 500_000_000 },
      perConnectionBufferLimitBytes: { value: 32768 },
      metadata: { filterMetadata: { istio: jsToStruct({ config: '/apis/x', n: 2 }) } },
      typedExtensionProtocolOptions: {
        h: { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicitHttpConfig: { http2ProtocolOptions: {} } },
      },
    });
    // Field keys become the protos' names; map keys (`h`, `istio`) and Struct contents stay as they are.
    assert.deepEqual(resourceToJson(TYPE.cluster, bytes), {
      name: 'c',
      connect_timeout: '1.500s',
      per_connection_buffer_limit_bytes: 32768,
      metadata: { filter_metadata: { istio: { config: '/apis/x', n: 2 } } },
      typed_extension_protocol_options: {
        h: { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } },
      },
    });
  });

  it('converts Struct to and from plain JS', () => {
    const js = { a: 'x', n: 1.5, b: true, nil: null, list: [1, 'two', { three: 3 }], nested: { deep: { k: 'v' } } };
    const bytes = encodeResource('google.protobuf.Struct', jsToStruct({ ...js, skipped: undefined }));
    const back = structToJs(decodeResource('google.protobuf.Struct', bytes));
    assert.deepEqual(back, js);
    assert.deepEqual(structToJs(undefined), {});
  });

  it('makes a short stable content version', () => {
    const a = encodeResource(TYPE.listener, listener());
    const b = encodeResource(TYPE.listener, listener());
    const c = encodeResource(TYPE.listener, { ...listener(), name: 'other' });
    assert.match(contentVersion(a), /^[0-9a-f]{16}$/);
    assert.equal(contentVersion(a), contentVersion(b));
    assert.notEqual(contentVersion(a), contentVersion(c));
  });
});
