import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Proto, ResourceHandler } from '../core/contracts.ts';
import { Stats } from '../core/stats.ts';
import { encodeResource } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { nackMessage } from './session.ts';
import { TypeState } from './type-state.ts';
import type { Update } from './type-state.ts';
import type { WireResource } from './wire.ts';

interface Call { names: string[]; removed: string[]; complete: boolean }

function handler(typeUrl: string, rules: { reject?: (name: string, r: Proto) => string[]; throwOnApply?: boolean } = {}): ResourceHandler & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    typeUrl,
    calls,
    validate: (name, r) => rules.reject?.(name, r) ?? [],
    apply(resources, removed, complete) {
      if (rules.throwOnApply) throw new Error('boom');
      calls.push({ names: [...resources.keys()].sort(), removed: [...removed].sort(), complete });
    },
  };
}

const lis = (name: string, port = 80): WireResource => ({
  typeUrl: TYPE.listener, body: encodeResource(TYPE.listener, { name, address: { socketAddress: { address: '127.0.0.1', portValue: port } } }),
});
const cla = (name: string, port = 80, version?: string): WireResource => ({
  typeUrl: TYPE.endpoint, ...(version === undefined ? {} : { name, version }),
  body: encodeResource(TYPE.endpoint, { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } }] }] }),
});
const sotw = (version: string, ...resources: WireResource[]): Update => ({ resources, removed: [], exhaustive: true, version });
const delta = (version: string, resources: WireResource[], removed: string[] = []): Update => ({ resources, removed, exhaustive: false, version });
const portOf = (r: Proto): number => (r as any).address.socketAddress.portValue;
const log = (): void => {};

describe('TypeState: Listener/Cluster (wildcard)', () => {
  it('applies the complete set, the first one even when empty, and skips unchanged resends', () => {
    const h = handler(TYPE.listener);
    const t = new TypeState(h, { log });
    assert.deepEqual(t.accept(sotw('1')), []);
    assert.deepEqual(h.calls, [{ names: [], removed: [], complete: true }]);
    assert.deepEqual(t.accept(sotw('2', lis('a'), lis('b'))), []);
    assert.deepEqual(t.accept(sotw('3', lis('a'), lis('b'))), []);
    assert.equal(h.calls.length, 2, 'an identical set is not applied again');
    assert.equal(t.version, '3');
    assert.deepEqual(t.accept(sotw('4', lis('b', 81))), []);
    assert.deepEqual(h.calls.at(-1), { names: ['b'], removed: ['a'], complete: true });
    assert.equal(portOf([...t.resources()][0]!.resource), 81);
  });

  it('collects every problem of a response and applies none of it', () => {
    const h = handler(TYPE.listener, { reject: (name, r) => (portOf(r) === 1 ? [`address.socketAddress.portValue: ${name} uses port 1`] : []) });
    const t = new TypeState(h, { log });
    t.accept(sotw('1', lis('good')));
    const problems = t.accept(sotw('2',
      lis('good', 1), lis('bad', 1), lis('dup'), lis('dup'),
      { typeUrl: TYPE.cluster, body: Uint8Array.of() },
      { typeUrl: TYPE.listener, body: Uint8Array.of(0x0a, 0x01, 0x78, 0x22, 0x05, 0xff) },
      { typeUrl: TYPE.listener, body: encodeResource(TYPE.listener, {}) },
    ));
    assert.deepEqual(problems.map((p) => p.replace(/: cannot decode.*/, ': cannot decode')), [
      'Listener dup: sent twice in one response',
      `resources[4]: type ${TYPE.cluster} in a Listener response`,
      'resources[6]: Listener has no name',
      'Listener good: address.socketAddress.portValue: good uses port 1',
      'Listener bad: address.socketAddress.portValue: bad uses port 1',
      'Listener x: cannot decode',
    ]);
    assert.equal(h.calls.length, 1);
    assert.equal(t.version, '1');
    assert.deepEqual([...t.resources()].map((r) => [r.name, portOf(r.resource)]), [['good', 80]]);
  });

  it('turns a throwing validator or handler into a problem, keeping the last good state', () => {
    const t1 = new TypeState(handler(TYPE.listener, { reject: () => { throw new Error('bug'); } }), { log });
    assert.deepEqual(t1.accept(sotw('1', lis('a'))), ['Listener a: validation failed: bug']);
    const t2 = new TypeState(handler(TYPE.listener, { throwOnApply: true }), { log });
    assert.deepEqual(t2.accept(sotw('1', lis('a'))), ['Listener update could not be applied: boom']);
    assert.equal(t2.applied, false);
    assert.deepEqual([...t2.resources()], []);
  });

  it('judges a delta response together with what a rejected one carried (the server will not resend it)', () => {
    const h = handler(TYPE.listener, { reject: (_n, r) => (portOf(r) === 1 ? ['bad port'] : []) });
    const t = new TypeState(h, { log });
    t.accept(delta('1', [lis('a')]));
    assert.equal(t.accept(delta('2', [lis('a', 1), lis('b')])).length, 1);
    assert.deepEqual(t.accept(delta('3', [lis('c')])), ['Listener a: bad port'], 'still bad as far as the server knows');
    assert.deepEqual(t.accept(delta('4', [lis('a', 2)])), []);
    assert.deepEqual(h.calls.at(-1), { names: ['a', 'b', 'c'], removed: [], complete: true });
    assert.deepEqual(t.accept(delta('5', [], ['b'])), []);
    assert.deepEqual(h.calls.at(-1), { names: ['a', 'c'], removed: ['b'], complete: true });
  });

  it('forgets what the server believed when the stream ends', () => {
    const h = handler(TYPE.listener, { reject: (_n, r) => (portOf(r) === 1 ? ['bad port'] : []) });
    const t = new TypeState(h, { log });
    t.accept(delta('1', [lis('a')]));
    t.accept(delta('2', [lis('b', 1)]));
    t.streamEnded();
    assert.deepEqual(t.accept(delta('3', [lis('c')])), []);
    assert.deepEqual(h.calls.at(-1)?.names, ['a', 'c']);
  });

  it('counts attempts, successes and rejections under Envoy names', () => {
    const stats = new Stats();
    const t = new TypeState(handler(TYPE.listener, { reject: () => ['no'] }), { stats, log });
    t.accept(sotw('1'));
    t.accept(sotw('2', lis('a')));
    assert.equal(stats.counter('listener_manager.lds.update_attempt').value, 2);
    assert.equal(stats.counter('listener_manager.lds.update_success').value, 1);
    assert.equal(stats.counter('listener_manager.lds.update_rejected').value, 1);
  });
});

describe('TypeState: RouteConfiguration/ClusterLoadAssignment (by name)', () => {
  it('applies only what changed, keeps what a response leaves out, ignores what was not asked for', () => {
    const h = handler(TYPE.endpoint);
    const t = new TypeState(h, { log });
    t.want(new Set(['a', 'b']));
    assert.deepEqual(t.waiting(), ['a', 'b']);
    assert.deepEqual(t.accept(delta('1', [cla('a'), cla('b'), cla('zzz')])), []);
    assert.deepEqual(h.calls.at(-1), { names: ['a', 'b'], removed: [], complete: false });
    t.accept(delta('2', [cla('b', 81)]));
    assert.deepEqual(h.calls.at(-1), { names: ['b'], removed: [], complete: false });
    assert.deepEqual([...t.resources()].map((r) => r.name).sort(), ['a', 'b']);
  });

  it('records new versions of unchanged bytes without applying them', () => {
    const h = handler(TYPE.endpoint);
    const t = new TypeState(h, { log });
    t.want(new Set(['a']));
    t.accept(delta('s1', [cla('a', 80, 'v1')]));
    t.accept(delta('s2', [cla('a', 80, 'v2')]));
    assert.equal(h.calls.length, 1);
    assert.deepEqual(t.versions(), { a: 'v2' });
  });

  it('marks wanted names the server removed or that timed out as absent', () => {
    const h = handler(TYPE.endpoint);
    const t = new TypeState(h, { log });
    t.want(new Set(['a', 'b', 'c']));
    t.accept(delta('1', [cla('a')], ['b']));
    assert.deepEqual(h.calls.at(-1), { names: ['a'], removed: ['b'], complete: false });
    assert.deepEqual(t.waiting(), ['c']);
    assert.equal(t.expire('a'), false, 'a held resource does not expire');
    assert.equal(t.expire('c'), true);
    assert.deepEqual(h.calls.at(-1), { names: [], removed: ['c'], complete: false });
    assert.deepEqual(t.status().absent, ['b', 'c']);
    assert.deepEqual(t.status().waiting, []);
    t.accept(delta('2', [cla('c')]));
    assert.deepEqual(t.status().absent, ['b']);
  });

  it('removes resources whose subscription ended, at once', () => {
    const h = handler(TYPE.endpoint);
    const t = new TypeState(h, { log });
    t.want(new Set(['a', 'b']));
    t.accept(delta('1', [cla('a'), cla('b')]));
    assert.equal(t.want(new Set(['b', 'c'])), true);
    assert.deepEqual(h.calls.at(-1), { names: [], removed: ['a'], complete: false });
    assert.equal(t.want(new Set(['b', 'c'])), false);
    assert.deepEqual(t.status().subscribed, ['b', 'c']);
  });

  it('arms initial-fetch timers for waiting names only, once', async () => {
    const t = new TypeState(handler(TYPE.endpoint), { log });
    t.want(new Set(['a', 'b']));
    t.accept(delta('1', [cla('a')]));
    const expired: string[] = [];
    const done = new Promise<void>((resolve) => t.armTimers(5, (n) => {
      expired.push(n);
      resolve();
    }));
    t.armTimers(5, (n) => expired.push(`again ${n}`));
    await done;
    assert.deepEqual(expired, ['b']);
  });
});

describe('nackMessage', () => {
  it('joins problems and caps the message', () => {
    assert.equal(nackMessage(['a: x', 'b: y']), 'a: x; b: y');
    const long = nackMessage(Array.from({ length: 5000 }, (_, i) => `Listener l${i}: address: something is wrong here`));
    assert.ok(long.length < 33 * 1024);
    assert.match(long, /… and \d+ more problems$/);
  });
});
