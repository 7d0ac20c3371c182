import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDeltaRequest, decodeSotwRequest, encodeSotwResponse, toXdsNode } from '../../src/control/ads/wire.ts';
import { encodeDeltaResponse } from '../../src/control/ads/responses.ts';
import { TYPE } from '../../src/xds/type-urls.ts';
import { parseProxy } from '../../src/control/proxy.ts';
import { readResponseHead, RequestCodec } from './sidecar-wire.ts';
import { edsClusterNames, joiningWorkloadNode, sidecarNode } from './mesh.ts';

describe('simulated sidecar wire', () => {
  const codec = new RequestCodec('sotw');
  const delta = new RequestCodec('delta');

  it('reads version, type, nonce and resource count of the server\'s responses without decoding resources', () => {
    const body = (n: number) => ({ name: `r${n}`, version: 'v', body: Buffer.alloc(50 + n, n) });
    const bytes = encodeSotwResponse(TYPE.endpoint, 'abc123', 'n7', [body(1), body(2), body(3)], 'weft-control@test');
    const head = readResponseHead(Buffer.from(bytes));
    assert.deepEqual(head, { versionInfo: 'abc123', typeUrl: TYPE.endpoint, nonce: 'n7', resources: 3, bytes: bytes.length });
    const d = encodeDeltaResponse(TYPE.virtualHost, 'sys9', 'n8', [body(1), body(2)], ['gone'], 'weft-control@test');
    assert.deepEqual(readResponseHead(Buffer.from(d)), { versionInfo: 'sys9', typeUrl: TYPE.virtualHost, nonce: 'n8', resources: 2, bytes: d.length });
  });

  it('first request: node + subscription, merged into one DiscoveryRequest the server accepts', () => {
    const names = edsClusterNames(2);
    const req = decodeSotwRequest(Buffer.concat([codec.node(sidecarNode(3, false)), codec.subscription(TYPE.endpoint, names)]));
    assert.equal(req.typeUrl, TYPE.endpoint);
    assert.deepEqual(req.resourceNames, names);
    assert.equal(req.responseNonce, '');
    const node = toXdsNode(req.node);
    assert.ok(!('error' in node));
    const proxy = parseProxy(node);
    assert.equal(proxy.id, 'sidecar~127.0.2.4~app-3.default~default.svc.cluster.local');
    assert.deepEqual(proxy.labels, { app: 'app-3' });
    assert.equal(proxy.ip, '127.0.2.4');
    assert.deepEqual(proxy.ports, [{ name: 'http', containerPort: 9080, protocol: 'TCP' }]);
    assert.equal(proxy.interceptionMode, 'NONE');
    assert.equal(proxy.vhds, false);
  });

  it('delta: node + subscribe once, then ACKs carrying only the type and nonce; VHDS announced', () => {
    const first = decodeDeltaRequest(Buffer.concat([delta.node(sidecarNode(3, true)), delta.subscription(TYPE.virtualHost, ['15001'])]));
    assert.deepEqual([first.typeUrl, first.subscribe], [TYPE.virtualHost, ['15001']]);
    const node = toXdsNode(first.node);
    assert.ok(!('error' in node));
    assert.equal(parseProxy(node).vhds, true);
    const ack = decodeDeltaRequest(Buffer.concat([delta.ackBase(TYPE.virtualHost, ['15001']), delta.ack('ignored', 'n4')]));
    assert.deepEqual([ack.typeUrl, ack.subscribe, ack.responseNonce, ack.errorDetail], [TYPE.virtualHost, [], 'n4', null]);
  });

  it('ACK: subscription + version and nonce, without a node', () => {
    const req = decodeSotwRequest(Buffer.concat([codec.ackBase(TYPE.route, ['15001']), codec.ack('v9', 'n3')]));
    assert.deepEqual({ ...req }, { versionInfo: 'v9', node: null, resourceNames: ['15001'], typeUrl: TYPE.route, responseNonce: 'n3', errorDetail: null });
  });

  it('sidecar and joining-workload nodes get distinct addresses, the latter selected by svc-0', () => {
    const ips = new Set(Array.from({ length: 1500 }, (_, i) => sidecarNode(i, false).metadata['INSTANCE_IPS']));
    assert.equal(ips.size, 1500);
    assert.deepEqual(joiningWorkloadNode(1000, true).metadata['LABELS'], { app: 'svc-0', version: 'v1' });
  });
});
