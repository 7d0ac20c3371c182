import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeResource, messageType } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { decodeDeltaResponse, decodeSotwResponse, encodeDeltaRequest, encodeSotwRequest, resourceName } from './wire.ts';

describe('resourceName', () => {
  it('reads the name of every resource type without decoding it', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [TYPE.listener, { address: { socketAddress: { address: '127.0.0.1', portValue: 80 } }, name: 'virtualInbound' }, 'virtualInbound'],
      [TYPE.cluster, { type: 'EDS', connectTimeout: { seconds: 1 }, name: 'outbound|9080||reviews.default.svc.cluster.local' }, 'outbound|9080||reviews.default.svc.cluster.local'],
      [TYPE.route, { virtualHosts: [{ name: 'vh', domains: ['*'] }], name: '9080' }, '9080'],
      [TYPE.endpoint, { endpoints: [{ lbEndpoints: [] }], clusterName: 'outbound|80||a' }, 'outbound|80||a'],
      [TYPE.secret, { name: 'default' }, 'default'],
    ];
    for (const [typeUrl, obj, name] of cases) assert.equal(resourceName(encodeResource(typeUrl, obj)), name, typeUrl);
  });

  it('is undefined for bytes without a name or malformed bytes', () => {
    assert.equal(resourceName(encodeResource(TYPE.route, { virtualHosts: [] })), undefined);
    assert.equal(resourceName(Uint8Array.of(0x0a, 0x10, 0x61)), undefined);
  });
});

describe('ADS messages', () => {
  const any = (typeUrl: string, obj: Record<string, unknown>) => ({ type_url: typeUrl, value: encodeResource(typeUrl, obj) });

  it('decodes a DiscoveryResponse keeping each resource as bytes', () => {
    const type = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    const bytes = type.encode(type.fromObject({ versionInfo: 'v1', typeUrl: TYPE.route, nonce: 'n1', resources: [any(TYPE.route, { name: 'r1' })] })).finish();
    const res = decodeSotwResponse(bytes);
    assert.equal(res.versionInfo, 'v1');
    assert.equal(res.nonce, 'n1');
    assert.equal(res.resources[0]?.typeUrl, TYPE.route);
    assert.equal(resourceName(res.resources[0]!.body), 'r1');
  });

  it('decodes a DeltaDiscoveryResponse, leaving out TTL heartbeats (entries without a body)', () => {
    const type = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
    const bytes = type.encode(type.fromObject({
      systemVersionInfo: 's1', typeUrl: TYPE.endpoint, nonce: 'n2', removedResources: ['gone'],
      resources: [{ name: 'a', version: '1', resource: any(TYPE.endpoint, { clusterName: 'a' }) }, { name: 'b', version: '2' }],
    })).finish();
    const res = decodeDeltaResponse(bytes);
    assert.deepEqual(res.resources.map((r) => [r.name, r.version, r.typeUrl]), [['a', '1', TYPE.endpoint]]);
    assert.deepEqual(res.removed, ['gone']);
    assert.equal(res.systemVersionInfo, 's1');
  });

  it('encodes requests with the node, subscriptions and error detail', () => {
    const node = { id: 'sidecar~1.2.3.4~a.ns~ns.svc.cluster.local', cluster: 'a.ns', metadata: { fields: {} }, userAgentName: 'weft', userAgentVersion: '0', clientFeatures: [] };
    const sotw = messageType('envoy.service.discovery.v3.DiscoveryRequest');
    const s = sotw.toObject(sotw.decode(encodeSotwRequest({ node, typeUrl: TYPE.route, versionInfo: 'v', resourceNames: ['x'], responseNonce: 'n', errorDetail: { code: 3, message: 'bad' } })));
    assert.equal(s.node.id, node.id);
    assert.deepEqual(s.resourceNames, ['x']);
    assert.equal(s.errorDetail.message, 'bad');
    const delta = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    const d = delta.toObject(delta.decode(encodeDeltaRequest({ typeUrl: TYPE.endpoint, resourceNamesSubscribe: ['a'], initialResourceVersions: { a: '1' } })));
    assert.deepEqual(d.resourceNamesSubscribe, ['a']);
    assert.deepEqual(d.initialResourceVersions, { a: '1' });
  });
});
