import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EncodedResource } from '../../xds/resource-server.ts';
import { messageType } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { encodeDeltaResponse, encodeSotwResponse } from './responses.ts';

const SOTW = messageType('envoy.service.discovery.v3.DiscoveryResponse');
const DELTA = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
const plain = (type: typeof SOTW, bytes: Uint8Array): Record<string, unknown> => type.toObject(type.decode(bytes), { bytes: String, defaults: false });

function resource(name: string, size: number, fill = 7): EncodedResource {
  return { name, version: `v-${name}-${size}`, body: Buffer.alloc(size, fill) };
}

/** What protobufjs's own encoder writes for the same response. */
function reference(typeUrl: string, version: string, nonce: string, resources: readonly EncodedResource[], cp: string): Uint8Array {
  return SOTW.encode(SOTW.fromObject({
    versionInfo: version, typeUrl, nonce,
    resources: resources.map((r) => ({ type_url: typeUrl, value: r.body })),
    ...(cp === '' ? {} : { controlPlane: { identifier: cp } }),
  })).finish();
}

describe('response assembly', () => {
  it('writes SotW responses that decode as protobufjs writes them, across varint length sizes', () => {
    // Bodies whose lengths need 1, 2, 3 and 4 varint bytes (< 2^7, < 2^14, < 2^21, ≥ 2^21).
    const cases: [string, EncodedResource[], string][] = [
      ['empty', [], ''],
      ['small', [resource('a', 5), resource('ü-ñame', 100)], 'weft-control@host'],
      ['medium', [resource('m', 20_000)], 'cp'],
      ['large', [resource('l', 2_200_000), resource('s', 1)], 'cp'],
    ];
    for (const [label, list, cp] of cases) {
      const ours = encodeSotwResponse(TYPE.cluster, `ver-${label}`, 'nonce-1', list, cp);
      assert.deepEqual(plain(SOTW, ours), plain(SOTW, reference(TYPE.cluster, `ver-${label}`, 'nonce-1', list, cp)), label);
    }
  });

  it('reuses the part shared by streams only for the same type, version and control plane', () => {
    const list = [resource('a', 300), resource('b', 40)];
    for (let i = 0; i < 3; i++) {
      const res = plain(SOTW, encodeSotwResponse(TYPE.endpoint, 'v1', `n${i}`, list, 'cp'));
      assert.equal(res.nonce, `n${i}`);
      assert.equal(res.versionInfo, 'v1');
    }
    const other = [
      encodeSotwResponse(TYPE.endpoint, 'v2', 'x', list, 'cp'),
      encodeSotwResponse(TYPE.route, 'v2', 'y', list, 'cp'),
      encodeSotwResponse(TYPE.route, 'v2', 'z', list, 'other'),
    ].map((b) => plain(SOTW, b));
    assert.deepEqual(other.map((r) => [r.versionInfo, r.typeUrl, (r.controlPlane as { identifier: string }).identifier, r.nonce]), [
      ['v2', TYPE.endpoint, 'cp', 'x'], ['v2', TYPE.route, 'cp', 'y'], ['v2', TYPE.route, 'other', 'z'],
    ]);
    assert.deepEqual(plain(SOTW, encodeSotwResponse(TYPE.route, 'v2', 'z', list, 'other')), plain(SOTW, reference(TYPE.route, 'v2', 'z', list, 'other')));
  });

  it('writes delta responses that decode as protobufjs writes them, one cached entry per resource and type', () => {
    const shared = resource('shared', 20_000);
    const list = [resource('a', 10), shared];
    for (const typeUrl of [TYPE.cluster, TYPE.endpoint, TYPE.cluster]) {
      const ours = encodeDeltaResponse(typeUrl, 'sys', 'n', list, ['gone', 'ø'], 'cp');
      const expected = DELTA.encode(DELTA.fromObject({
        systemVersionInfo: 'sys', typeUrl, nonce: 'n', removedResources: ['gone', 'ø'], controlPlane: { identifier: 'cp' },
        resources: list.map((r) => ({ name: r.name, version: r.version, resource: { type_url: typeUrl, value: r.body } })),
      })).finish();
      assert.deepEqual(plain(DELTA, ours), plain(DELTA, expected), typeUrl);
    }
    const bare = plain(DELTA, encodeDeltaResponse(TYPE.route, '', 'n2', [], [], ''));
    assert.deepEqual(bare, { typeUrl: TYPE.route, nonce: 'n2' });
  });
});
