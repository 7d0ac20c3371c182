import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EncodedResource, Generated } from '../../xds/resource-server.ts';
import { messageType } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { NameInterner } from './names.ts';
import { serialize } from './responses.ts';
import type { WireNames } from './names.ts';
import type { ProtocolContext } from './protocol.ts';
import { SotwProtocol } from './sotw.ts';
import { decodeSotwRequest } from './wire.ts';

const REQUEST = messageType('envoy.service.discovery.v3.DiscoveryRequest');
const RESPONSE = messageType('envoy.service.discovery.v3.DiscoveryResponse');
const request = (obj: Record<string, unknown>) => decodeSotwRequest(REQUEST.encode(REQUEST.fromObject(obj)).finish());

/** Counts decodes of resource_names bytes. */
class CountingInterner extends NameInterner {
  decodes = 0;
  override fromWire(bytes: Buffer, decode: () => readonly string[]): WireNames {
    return super.fromWire(bytes, () => { this.decodes++; return decode(); });
  }
}

interface Sent { readonly nonce: string; readonly version: string; readonly bodies: string[] }

/** A protocol over an in-memory context: `generate` answers from `current`, writes are decoded and kept. */
function stream(names: NameInterner, current: () => Generated) {
  const asked: (readonly string[] | undefined)[] = [];
  const sent: Sent[] = [];
  let nonce = 0;
  const ctx: ProtocolContext = {
    proxyId: 'p', observer: {}, controlPlane: '', names, writable: true,
    generate: (_typeUrl, list) => { asked.push(list); return current(); },
    nextNonce: () => String(++nonce),
    write: (response) => {
      const res = RESPONSE.decode(serialize(response)) as unknown as { nonce: string; versionInfo: string; resources: { value: Uint8Array }[] };
      sent.push({ nonce: res.nonce, version: res.versionInfo, bodies: res.resources.map((r) => Buffer.from(r.value).toString()) });
    },
  };
  return { protocol: new SotwProtocol(ctx), asked, sent };
}

const res = (name: string, version: string): EncodedResource => ({ name, version, body: Buffer.from(`${name}@${version}`) });
const set = (version: string, ...resources: EncodedResource[]): Generated => ({ version, resources });

describe('SotW protocol (in memory)', () => {
  it('skips decoding an ACK that repeats the subscription, and hands equal subscriptions the identical names array', () => {
    const names = new CountingInterner();
    const g = set('v1', res('a', '1'));
    const s1 = stream(names, () => g);
    s1.protocol.onRequest(request({ typeUrl: TYPE.endpoint, resourceNames: ['c', 'a', 'b'] }), 0);
    assert.equal(names.decodes, 1);
    const first = s1.asked[0];
    assert.deepEqual(first, ['a', 'b', 'c']);
    assert.ok(Object.isFrozen(first));
    s1.protocol.onRequest(request({ typeUrl: TYPE.endpoint, resourceNames: ['c', 'a', 'b'], versionInfo: 'v1', responseNonce: s1.sent[0]!.nonce }), 0);
    assert.equal(names.decodes, 1, 'the ACK was not decoded');

    const s2 = stream(names, () => g);
    s2.protocol.onRequest(request({ typeUrl: TYPE.endpoint, resourceNames: ['c', 'a', 'b'] }), 0);
    assert.equal(names.decodes, 1, 'the same bytes on another stream are not decoded again');
    const s3 = stream(names, () => g);
    s3.protocol.onRequest(request({ typeUrl: TYPE.endpoint, resourceNames: ['a', 'b', 'c', 'a'] }), 0);
    assert.equal(names.decodes, 2);
    assert.equal(s2.asked[0], first);
    assert.equal(s3.asked[0], first, 'another order, same names: the identical array');

    s3.protocol.onRequest(request({ typeUrl: TYPE.endpoint, resourceNames: ['b', 'c', 'a'], responseNonce: s3.sent[0]!.nonce }), 0);
    assert.equal(s3.sent.length, 1, 'a reordered but equal subscription is no change');
  });

  it('pushes the difference from the set last sent, whatever the order, and nothing when no resource changed', () => {
    let current = set('1', res('a', '1'), res('b', '1'), res('c', '1'));
    const s = stream(new NameInterner(), () => current);
    s.protocol.onRequest(request({ typeUrl: TYPE.endpoint, resourceNames: ['a', 'b', 'c', 'd'] }), 0);
    assert.deepEqual(s.sent.at(-1)?.bodies, ['a@1', 'b@1', 'c@1']);
    const step = (next: Generated): string[] | undefined => {
      const before = s.sent.length;
      current = next;
      s.protocol.push(undefined, 0);
      return s.sent.length === before ? undefined : s.sent.at(-1)!.bodies;
    };
    assert.deepEqual(step(set('2', res('a', '1'), res('b', '2'), res('c', '1'))), ['b@2']);
    assert.deepEqual(step(set('3', res('c', '1'), res('d', '1'), res('b', '2'), res('a', '3'))), ['d@1', 'a@3']);
    assert.equal(step(set('4', res('a', '3'), res('d', '1'))), undefined, 'only removals: nothing to send (absence is not deletion)');
    assert.deepEqual(step(set('5', res('a', '3'), res('d', '2'))), ['d@2']);
    assert.equal(s.sent.at(-1)?.version, '5');
  });

});
