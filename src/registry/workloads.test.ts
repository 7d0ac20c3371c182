import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Service, Workload } from './model.ts';
import { buildRegistrySnapshot } from './snapshot.ts';
import { patchSortedWorkloads, sortWorkloads, workloadKey } from './workloads.ts';

const workload = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  namespace: fc.constantFrom('default', 'prod'),
  origin: fc.constantFrom('proxy', 'WorkloadEntry') as fc.Arbitrary<Workload['origin']>,
  proxyId: fc.constantFrom('p1', 'p2', 'p3'),
  app: fc.constantFrom('x', 'y', 'z'),
}).map(({ app, ...w }): Workload => ({
  ...w, labels: { app }, serviceAccount: 'default', address: '10.0.0.1', namedPorts: {}, weight: 1, healthy: true,
}));

const keysOf = (ws: readonly Workload[]) => ws.map((w) => `${w.namespace}/${w.name}/${workloadKey(w)}`);

test('patching the sorted workloads gives the order a full sort gives', () => {
  fc.assert(fc.property(fc.array(workload, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 5 }), fc.array(workload, { maxLength: 5 }), (all, goneAt, added) => {
    const before = sortWorkloads(all);
    const gone = [...new Set(goneAt.filter((i) => i < before.length).map((i) => before[i]!))];
    const after = [...before.filter((w) => !gone.includes(w)), ...added];
    assert.deepEqual(keysOf(patchSortedWorkloads(before, gone, added)), keysOf(sortWorkloads(after)));
  }));
});

test('selecting by scan (few queries) and by index (many) find the same workloads', () => {
  const ws = sortWorkloads(['x', 'y', 'z', 'x', 'y'].flatMap((app, i) => ['default', 'prod'].map((namespace): Workload => ({
    name: `w${i}`, namespace, labels: { app, tier: i % 2 === 0 ? 'even' : 'odd' }, serviceAccount: 'default', address: `10.0.0.${i}`, namedPorts: {}, weight: 1, healthy: true, origin: 'WorkloadEntry',
  }))));
  const services = ['x', 'y', 'z'].flatMap((app): Record<string, string>[] => [{ app }, { app, tier: 'even' }, {}]).map((selector, i): Service => ({
    hostname: `s${i}.default.svc.cluster.local`, namespace: 'default', name: `s${i}`, kind: 'Service', ports: [{ name: 'http', port: 80, protocol: 'HTTP', targetPort: 8080 }],
    selector, exportTo: ['*'], resolution: 'STATIC', location: 'MESH_INTERNAL', addresses: [], subjectAltNames: [],
  }));
  const snap = buildRegistrySnapshot(1, services, ws);
  const found = services.map((s) => snap.endpoints(s, 80).map((e) => e.address).join(','));
  const expected = services.map((s) => ws.filter((w) => w.namespace === 'default' && Object.entries(s.selector!).every(([k, v]) => w.labels[k] === v)).map((w) => w.address).join(','));
  assert.deepEqual(found, expected);
  assert.ok(services.length > 4, 'more services than scans, so both paths run');
});
