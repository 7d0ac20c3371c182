import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../api/index.ts';
import { configSnapshot } from '../config-snapshot.ts';
import { buildRegistrySnapshot, servicesFromConfig, workloadsFromConfig } from '../../registry/index.ts';
import { MAX_CARRY_AGE, PushContext } from './push-context.ts';
import { loadAssignment } from '../translate/endpoints.ts';
import { typesForKinds, typesForVirtualServices } from './change-scope.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { TWO_SERVICES } from '../translate/harness.ts';

const YAML = TWO_SERVICES;

function context(version: string, reuse?: ConstructorParameters<typeof PushContext>[4]): PushContext {
  const cfg = configSnapshot(1, parseConfig(YAML, 'x.yaml').resources);
  const reg = buildRegistrySnapshot(1, servicesFromConfig(cfg), workloadsFromConfig(cfg));
  return new PushContext(version, cfg, reg, undefined, reuse);
}

describe('PushContext', () => {
  const A = 'outbound|80||a.default.svc.cluster.local';
  const B = 'outbound|80||b.default.svc.cluster.local';

  it('reuses the previous endpoints of hosts that did not change, so encodings are reused', () => {
    const first = context('1');
    const a1 = loadAssignment(first, A, 'default');
    const b1 = loadAssignment(first, B, 'default');
    const second = context('2', { previous: first, changedHosts: new Set(['b.default.svc.cluster.local']) });
    assert.equal(loadAssignment(second, A, 'default'), a1, 'unchanged host: the same object');
    assert.notEqual(loadAssignment(second, B, 'default'), b1, 'changed host: rebuilt');
    second.releasePrevious();
    const third = context('3', { previous: second, changedHosts: 'all' });
    assert.notEqual(loadAssignment(third, A, 'default'), a1, 'a full change rebuilds everything');
  });

  it('keeps a result through contexts that did not ask for it, for as long as it holds', () => {
    const first = context('1');
    const a1 = loadAssignment(first, A, 'default');
    const b1 = loadAssignment(first, B, 'default');
    // A routing change: nothing asks for endpoints in it.
    const routing = context('2', { previous: first, changedHosts: new Set(), types: new Set([TYPE.route]) });
    // An endpoint change of b, built once the routing context is published.
    const endpoints = context('3', { previous: routing, changedHosts: new Set(['b.default.svc.cluster.local']), types: new Set([TYPE.endpoint]) });
    routing.releasePrevious();
    assert.equal(loadAssignment(endpoints, A, 'default'), a1, 'a is carried through the routing context');
    assert.notEqual(loadAssignment(endpoints, B, 'default'), b1, 'b changed since');
    // Had the routing context's change touched a, a would be built anew.
    const touched = context('4', { previous: first, changedHosts: new Set(['a.default.svc.cluster.local']) });
    const next = context('5', { previous: touched, changedHosts: new Set() });
    touched.releasePrevious();
    assert.notEqual(loadAssignment(next, A, 'default'), a1);
    assert.equal(loadAssignment(next, B, 'default'), b1);
  });

  it('lets a carried result go once no context asked for it in MAX_CARRY_AGE contexts', () => {
    const contexts = [context('0')];
    const a0 = loadAssignment(contexts[0]!, A, 'default');
    const quiet = (n: number) => {
      for (let i = 0; i < n; i++) {
        const previous = contexts[contexts.length - 1]!;
        contexts.push(context(String(contexts.length), { previous, changedHosts: new Set(), types: new Set([TYPE.route]) }));
        previous.releasePrevious();
      }
      return contexts[contexts.length - 1]!;
    };
    assert.equal(loadAssignment(quiet(MAX_CARRY_AGE), A, 'default'), a0, 'carried as long as it was asked for recently enough');
    assert.equal(loadAssignment(quiet(MAX_CARRY_AGE + 1), A, 'default'), a0, 'asking again starts the count over');
    const late = quiet(MAX_CARRY_AGE + 2);
    assert.notEqual(loadAssignment(late, A, 'default'), a0, 'then let go, and built anew');
  });

  it('maps config kinds to the xDS types they can change', () => {
    assert.deepEqual([...(typesForKinds(['VirtualService']) as Set<string>)].sort(), [TYPE.listener, TYPE.route, TYPE.virtualHost].sort());
    assert.deepEqual([...(typesForKinds(['DestinationRule']) as Set<string>)].sort(), [TYPE.cluster, TYPE.endpoint, TYPE.route, TYPE.virtualHost].sort());
    assert.equal(typesForKinds(['Sidecar', 'VirtualService']), 'all');
    assert.equal((typesForKinds(['Service', 'WorkloadEntry', 'PeerAuthentication']) as Set<string>).size, 0);
  });

  it('pushes listeners for a VirtualService change only when TCP or TLS routes are involved', () => {
    const sorted = (s: unknown) => [...(s as Set<string>)].sort();
    assert.deepEqual(sorted(typesForVirtualServices([{}, { tcp: [] }])), [TYPE.route, TYPE.virtualHost].sort());
    assert.deepEqual(sorted(typesForVirtualServices([undefined, { tcp: [{}] }])), [TYPE.listener, TYPE.route, TYPE.virtualHost].sort());
    assert.deepEqual(sorted(typesForVirtualServices([{ tls: [{}] }])), [TYPE.listener, TYPE.route, TYPE.virtualHost].sort());
  });
});
