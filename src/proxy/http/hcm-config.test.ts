import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHcm } from './hcm-config.ts';
import { builtinFilters, HttpFilterRegistry, ROUTER_TYPE } from './index.ts';
import { Problems } from './router/proto.ts';

const ROUTER = { name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } };

function compile(c: Record<string, unknown>, registry: HttpFilterRegistry = builtinFilters()) {
  const problems = new Problems();
  const config = compileHcm(c, registry, problems);
  return { config, problems: problems.list };
}

describe('HttpConnectionManager config', () => {
  it("has Envoy's defaults", () => {
    const { config, problems } = compile({ statPrefix: 's', rds: { routeConfigName: '80' }, httpFilters: [ROUTER] });
    assert.deepEqual(problems, []);
    assert.equal(config.codec, 'AUTO');
    assert.deepEqual(config.routes, { kind: 'rds', name: '80' });
    assert.equal(config.streamIdleTimeoutMs, 300_000);
    assert.equal(config.idleTimeoutMs, 3_600_000);
    assert.equal(config.maxHeadersCount, 100);
    assert.equal(config.maxRequestHeadersBytes, 60 * 1024);
    assert.equal(config.generateRequestId, true);
    assert.equal(config.useRemoteAddress, false);
    assert.equal(config.filters.length, 1);
  });

  it('reads what Istio sets', () => {
    const { config, problems } = compile({
      statPrefix: 'outbound_0.0.0.0_80', codecType: 'AUTO', rds: { routeConfigName: '80' }, httpFilters: [ROUTER],
      upgradeConfigs: [{ upgradeType: 'websocket' }, { upgradeType: 'CONNECT' }], http2ProtocolOptions: { allowConnect: true },
      useRemoteAddress: { value: true }, normalizePath: { value: true }, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED', streamIdleTimeout: { seconds: 0, nanos: 0 },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual([...config.upgrades.keys()], ['websocket', 'connect']);
    assert.equal(config.allowConnect, true);
    assert.equal(config.streamIdleTimeoutMs, 0);
    assert.equal(config.normalizePath, true);
    assert.equal(config.useRemoteAddress, true);
  });

  it('collects every problem', () => {
    const { problems } = compile({
      codecType: 'HTTP3',
      httpFilters: [ROUTER, { name: 'x', typedConfig: { '@type': 'type.googleapis.com/some.Unknown' } }, { name: 'y', isOptional: true, typedConfig: { '@type': 'type.googleapis.com/some.Other' } }],
      maxRequestHeadersKb: { value: 9000 },
      http2ProtocolOptions: { maxConcurrentStreams: { value: 0 }, initialStreamWindowSize: { value: 1000 }, initialConnectionWindowSize: { value: 3_000_000_000 } },
    });
    assert.deepEqual(problems, [
      'statPrefix: required',
      'codecType: HTTP/3 is not supported',
      'maxRequestHeadersKb: must be in [1, 8192] (got 9000)',
      'http2ProtocolOptions.maxConcurrentStreams: must be at least 1 (got 0)',
      'http2ProtocolOptions.initialStreamWindowSize: must be in [65535, 2147483647] (got 1000)',
      'http2ProtocolOptions.initialConnectionWindowSize: must be in [65535, 2147483647] (got 3000000000)',
      '(root): one of rds, routeConfig is required',
      'httpFilters[0]: terminal filter envoy.filters.http.router must be the last HTTP filter',
      'httpFilters[1].typedConfig: unknown HTTP filter type type.googleapis.com/some.Unknown',
    ]);
  });

  it('reports problems inside filter configs with their path', () => {
    const { problems } = compile({
      statPrefix: 's', routeConfig: {},
      httpFilters: [{ name: 'f', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { httpStatus: 700 } } }, ROUTER],
    });
    assert.deepEqual(problems, ['httpFilters[0].typedConfig.abort.httpStatus: must be in [200, 600) (got 700)']);
  });

  it('an empty filter list means the router alone', () => {
    const { config, problems } = compile({ statPrefix: 's', routeConfig: {} });
    assert.deepEqual(problems, []);
    assert.equal(config.filters[0]?.factory.typeUrl, ROUTER_TYPE);
  });

  it('a registry without the router cannot make a valid chain', () => {
    const { problems } = compile({ statPrefix: 's', routeConfig: {}, httpFilters: [ROUTER] }, new HttpFilterRegistry());
    assert.deepEqual(problems, [
      `httpFilters[0].typedConfig: unknown HTTP filter type ${ROUTER_TYPE}`,
      'httpFilters: the last HTTP filter must be a terminal filter (the router)',
    ]);
  });
});
