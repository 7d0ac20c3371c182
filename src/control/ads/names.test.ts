import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageType } from '../../xds/protos.ts';
import { NameInterner } from './names.ts';
import { decodeSotwRequest, resourceNamesBytes } from './wire.ts';

const REQUEST = messageType('envoy.service.discovery.v3.DiscoveryRequest');
const encode = (obj: Record<string, unknown>): Buffer => Buffer.from(REQUEST.encode(REQUEST.fromObject(obj)).finish());

describe('NameInterner', () => {
  it('gives the identical frozen array for equal lists, whatever their order and duplicates', () => {
    const names = new NameInterner();
    const a = names.sorted(['b', 'a', 'c']);
    assert.deepEqual(a, ['a', 'b', 'c']);
    assert.ok(Object.isFrozen(a));
    assert.equal(names.sorted(['c', 'b', 'a', 'b']), a);
    assert.equal(names.sorted(new Set(['a', 'b', 'c'])), a);
    assert.equal(names.sorted(['a', 'b', 'c']), a);
    assert.notEqual(names.sorted(['a', 'b']), a);
    assert.equal(names.sorted([]), names.sorted([]));
  });

  it('does not confuse lists whose names contain the separator it joins keys with', () => {
    const names = new NameInterner();
    const joined = names.sorted(['a\u0000b']);
    const split = names.sorted(['a', 'b']);
    assert.deepEqual(joined, ['a\u0000b']);
    assert.deepEqual(split, ['a', 'b']);
  });

  it('decodes resource_names bytes once, however many requests carry them', () => {
    const names = new NameInterner();
    let decodes = 0;
    const fromRequest = (list: string[]) => {
      const req = decodeSotwRequest(encode({ typeUrl: 't', resourceNames: list, versionInfo: String(Math.random()) }));
      return names.fromWire(resourceNamesBytes(req)!, () => { decodes++; return req.resourceNames; });
    };
    const first = fromRequest(['y', 'x', '*']);
    assert.deepEqual({ sorted: first.sorted, empty: first.empty, star: first.star }, { sorted: ['*', 'x', 'y'], empty: false, star: true });
    assert.equal(fromRequest(['y', 'x', '*']), first);
    assert.equal(decodes, 1);
    const reordered = fromRequest(['x', 'y', '*']);
    assert.notEqual(reordered, first);
    assert.equal(reordered.sorted, first.sorted, 'a different order still yields the same names array');
    assert.equal(decodes, 2);
    assert.equal(fromRequest([]).empty, true);
  });

  it('tells apart long lists of equal length that differ anywhere', () => {
    const names = new NameInterner();
    const base = Array.from({ length: 20 }, (_, i) => `outbound|80||svc-${String(i).padStart(2, '0')}.ns`);
    const seen = new Set<unknown>();
    // Change one character of one name at every position: most changes miss the sampled words.
    for (let at = 0; at < base[10]!.length; at++) {
      const list = base.slice();
      list[10] = `${list[10]!.slice(0, at)}#${list[10]!.slice(at + 1)}`;
      const req = decodeSotwRequest(encode({ resourceNames: list }));
      const entry = names.fromWire(resourceNamesBytes(req)!, () => req.resourceNames);
      assert.deepEqual(entry.sorted, [...list].sort());
      seen.add(entry);
    }
    assert.equal(seen.size, base[10]!.length);
  });
});

describe('DiscoveryRequest decoding', () => {
  it('reads every field, keeping resource_names as bytes equal for equal lists', () => {
    const node = { id: 'n1', cluster: 'c' };
    const req = decodeSotwRequest(encode({
      versionInfo: 'v1', node, resourceNames: ['a', 'b'], typeUrl: 'type/x', responseNonce: 'n7', errorDetail: { code: 3, message: 'bad' },
    }));
    assert.deepEqual({ ...req, node: (req.node as { id: string }).id }, {
      versionInfo: 'v1', node: 'n1', resourceNames: ['a', 'b'], typeUrl: 'type/x', responseNonce: 'n7', errorDetail: { code: 3, message: 'bad' },
    });
    const again = decodeSotwRequest(encode({ typeUrl: 'type/x', resourceNames: ['a', 'b'] }));
    assert.ok(resourceNamesBytes(req)!.equals(resourceNamesBytes(again)!));
    assert.ok(!resourceNamesBytes(req)!.equals(resourceNamesBytes(decodeSotwRequest(encode({ resourceNames: ['b', 'a'] })))!));
    assert.throws(() => decodeSotwRequest(encode({ resourceNames: ['abcdef'] }).subarray(0, 5)), RangeError);
    assert.deepEqual({ ...decodeSotwRequest(Buffer.alloc(0)) }, { versionInfo: '', node: null, resourceNames: [], typeUrl: '', responseNonce: '', errorDetail: null });
  });

  it('collects resource_names fields interleaved with other fields (protobuf merges repeated fields)', () => {
    const merged = Buffer.concat([encode({ resourceNames: ['a'] }), encode({ typeUrl: 't', responseNonce: 'n' }), encode({ resourceNames: ['b', 'c'] })]);
    const req = decodeSotwRequest(merged);
    assert.deepEqual(req.resourceNames, ['a', 'b', 'c']);
    assert.equal(req.typeUrl, 't');
    assert.ok(resourceNamesBytes(req)!.equals(resourceNamesBytes(decodeSotwRequest(encode({ resourceNames: ['a', 'b', 'c'] })))!));
  });
});
