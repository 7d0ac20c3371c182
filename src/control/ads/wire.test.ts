import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageType } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { decodeDeltaRequest, toXdsNode } from './wire.ts';

const DELTA_REQUEST = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
const encode = (o: Record<string, unknown>): Uint8Array => DELTA_REQUEST.encode(DELTA_REQUEST.fromObject(o)).finish();

describe('DeltaDiscoveryRequest decoding', () => {
  it('reads every field protobufjs writes, and skips resource locators', () => {
    const req = decodeDeltaRequest(encode({
      node: { id: 'sidecar~10.0.0.1~a.ns~ns.svc.cluster.local', metadata: { fields: { NAMESPACE: { stringValue: 'ns' } } } },
      typeUrl: TYPE.endpoint,
      resourceNamesSubscribe: ['a', 'ü-b'],
      resourceNamesUnsubscribe: ['c'],
      resourceLocatorsSubscribe: [{ name: 'xdstp://x/y' }],
      initialResourceVersions: JSON.parse('{"a":"v1","":"v0","__proto__":"v2"}'),
      responseNonce: 'n7',
      errorDetail: { code: 3, message: 'bad cluster' },
    }));
    assert.equal(req.typeUrl, TYPE.endpoint);
    assert.deepEqual(req.subscribe, ['a', 'ü-b']);
    assert.deepEqual(req.unsubscribe, ['c']);
    assert.deepEqual(Object.entries(req.initialResourceVersions), [['a', 'v1'], ['', 'v0'], ['__proto__', 'v2']]);
    assert.ok(Object.hasOwn(req.initialResourceVersions, '__proto__'), 'a key named __proto__ is an entry, not a prototype');
    assert.equal(req.responseNonce, 'n7');
    assert.deepEqual(req.errorDetail, { code: 3, message: 'bad cluster' });
    const node = toXdsNode(req.node);
    assert.ok(!('error' in node));
    assert.equal(node.id, 'sidecar~10.0.0.1~a.ns~ns.svc.cluster.local');
    assert.deepEqual(node.metadata, { NAMESPACE: 'ns' });
  });

  it('an ACK is a type and a nonce; the type URL string is shared between requests', () => {
    const a = decodeDeltaRequest(encode({ typeUrl: TYPE.cluster, responseNonce: '1' }));
    const b = decodeDeltaRequest(encode({ typeUrl: TYPE.cluster, responseNonce: '2' }));
    assert.deepEqual({ ...a, initialResourceVersions: { ...a.initialResourceVersions } }, { node: null, typeUrl: TYPE.cluster, subscribe: [], unsubscribe: [], initialResourceVersions: {}, responseNonce: '1', errorDetail: null });
    assert.equal(b.responseNonce, '2');
    assert.equal(b.typeUrl, TYPE.cluster);
    const similar = decodeDeltaRequest(encode({ typeUrl: TYPE.cluster.replace('Cluster', 'Clustex') }));
    assert.equal(similar.typeUrl, TYPE.cluster.replace('Cluster', 'Clustex'), 'same length, other bytes: not confused with an interned one');
  });

  it('refuses truncated input with an error naming the overrun', () => {
    const bytes = encode({ typeUrl: TYPE.route, responseNonce: 'n' });
    assert.throws(() => decodeDeltaRequest(bytes.subarray(0, 10)), /runs past the end|index out of range/);
  });
});
