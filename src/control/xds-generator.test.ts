import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setImmediate as tick } from 'node:timers/promises';
import { parseConfig } from '../api/index.ts';
import { configSnapshot } from './config-snapshot.ts';
import { buildRegistrySnapshot, servicesFromConfig, workloadsFromConfig } from '../registry/index.ts';
import { DEFAULT_MESH, PushContext, type Reuse } from './push/push-context.ts';
import { XdsGenerator } from './xds-generator.ts';
import { parseProxy, type Proxy } from './proxy.ts';
import { nodeOf, testMesh, TWO_SERVICES } from './translate/harness.ts';
import { TYPE } from '../xds/type-urls.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const YAML = TWO_SERVICES;

const config = configSnapshot(1, parseConfig(YAML, 'mesh.yaml').resources);
const context = (version: string, reuse?: Reuse) =>
  new PushContext(version, config, buildRegistrySnapshot(Number(version), servicesFromConfig(config), workloadsFromConfig(config)), DEFAULT_MESH, reuse);
const sidecar = (name: string, app: string): Proxy =>
  parseProxy(nodeOf({ ip: `127.0.0.${name.length + 1}`, name, labels: { app }, ports: [{ name: 'http', containerPort: 80 }] }));
const TYPES = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route];

describe('XdsGenerator', () => {
  it('lets a replaced push context go, even while proxies it served stay connected and unchanged', async () => {
    const a = sidecar('a', 'a'), b = sidecar('bb', 'b');
    // Built in a function so that no local variable keeps the first context.
    const serveBothThenReplace = (): { generator: XdsGenerator; first: WeakRef<PushContext> } => {
      const ctx = context('1');
      const generator = new XdsGenerator(ctx);
      for (const p of [a, b]) for (const t of TYPES) generator.generate(p, t, undefined);
      generator.publish(context('2'), { reason: 'test', changedAt: performance.now() });
      return { generator, first: new WeakRef(ctx) };
    };
    const { generator, first } = serveBothThenReplace();
    // Only `b` is served from the new context, as when a push skips proxies it does not affect.
    for (const t of TYPES) generator.generate(b, t, undefined);
    await tick();
    gc();
    assert.equal(first.deref(), undefined, 'the first context (and everything it memoized) was collected');
    assert.ok(generator.generate(a, TYPE.cluster, undefined).resources.length > 0, 'a is still served');
  });

  it('shares one route configuration among a namespace\'s proxies unless a VirtualService matches on sourceLabels', () => {
    const mesh = (match: string) => testMesh(`${YAML}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a}
spec:
  hosts: [a]
  http:
  - match: [${match}]
    route: [{destination: {host: b}}]
  - route: [{destination: {host: a}}]
`, [{ name: 'v1', ip: '127.0.0.11', labels: { app: 'c', version: 'v1' } }, { name: 'v2', ip: '127.0.0.12', labels: { app: 'c', version: 'v2' } }]);
    const names = ['80']; // one array, as the ADS server interns equal subscriptions
    const routesOf = (m: ReturnType<typeof mesh>, name: string) => m.generator.generate(m.proxies.get(name)!, TYPE.route, names);
    const shared = mesh('{uri: {prefix: /b}}');
    assert.equal(routesOf(shared, 'v1'), routesOf(shared, 'v2'), 'same view: one Generated');
    const split = mesh('{sourceLabels: {version: v1}}');
    assert.notEqual(routesOf(split, 'v1').version, routesOf(split, 'v2').version, 'labels matter: each gets its own');
    assert.equal(split.call('v1', { host: 'a', port: 80, path: '/' }).cluster, 'outbound|80||b.default.svc.cluster.local');
    assert.equal(split.call('v2', { host: 'a', port: 80, path: '/' }).cluster, 'outbound|80||a.default.svc.cluster.local');
  });

  it('carries outbound clusters over to the next context when the change cannot touch CDS, and rebuilds them when it can', () => {
    const a = sidecar('a', 'a'), late = sidecar('late', 'b');
    const first = context('1');
    const generator = new XdsGenerator(first);
    const outbound = (ctx: PushContext, p: Proxy) =>
      generator.objects(ctx, p, TYPE.cluster, undefined).filter((c) => (c as { name: string }).name.startsWith('outbound|'));
    const before = outbound(first, a);
    assert.ok(before.length >= 2);
    // An endpoint change (a workload joining): a proxy that connects afterwards gets the very same cluster objects.
    const endpoints = context('2', { previous: first, changedHosts: new Set(['b.default.svc.cluster.local']), types: new Set([TYPE.endpoint]) });
    generator.publish(endpoints, { reason: 'test', changedAt: performance.now() });
    const carried = outbound(endpoints, late);
    assert.equal(carried.length, before.length);
    carried.forEach((c, i) => assert.equal(c, before[i], `${(c as { name: string }).name} is carried over`));
    // A change that may touch CDS (here: anything) builds them anew, equal in content.
    const any = context('3', { previous: endpoints, changedHosts: 'all', types: 'all' });
    generator.publish(any, { reason: 'test', changedAt: performance.now() });
    const rebuilt = outbound(any, late);
    assert.deepEqual(rebuilt, before);
    rebuilt.forEach((c, i) => assert.notEqual(c, before[i]));
  });

  it('hands a proxy the Generated of the previous context when the change left its type alone', () => {
    const a = sidecar('a', 'a'), twin = sidecar('aa', 'a');
    const first = context('1');
    const generator = new XdsGenerator(first);
    const held = new Map(TYPES.map((t) => [t, generator.generate(a, t, undefined)]));
    const endpoints = context('2', { previous: first, changedHosts: new Set(['b.default.svc.cluster.local']), types: new Set([TYPE.endpoint]) });
    generator.publish(endpoints, { reason: 'test', changedAt: performance.now() });
    // `twin` has the same view as `a` (same namespace, ports and labels): it gets what `a` holds.
    assert.equal(generator.generate(twin, TYPE.cluster, undefined), held.get(TYPE.cluster), 'CDS untouched: the same Generated');
    assert.equal(generator.generate(twin, TYPE.route, undefined), held.get(TYPE.route), 'RDS untouched: the same Generated');
    assert.notEqual(generator.generate(twin, TYPE.endpoint, undefined), held.get(TYPE.endpoint), 'EDS may have changed: generated anew');
    const any = context('3', { previous: endpoints, changedHosts: 'all', types: 'all' });
    generator.publish(any, { reason: 'test', changedAt: performance.now() });
    const cds = generator.generate(twin, TYPE.cluster, undefined);
    assert.notEqual(cds, held.get(TYPE.cluster), 'a change that may touch CDS generates it anew…');
    assert.equal(cds.version, held.get(TYPE.cluster)!.version, '…equal in content');
  });

  it('after an endpoint change, makes only the changed host\'s assignments again and ends where a full generation does', () => {
    const a = sidecar('a', 'a');
    const first = context('1');
    const generator = new XdsGenerator(first);
    const before = generator.generate(a, TYPE.endpoint, undefined);
    // b's workload moves: an endpoint-only change of b.
    const moved = configSnapshot(2, parseConfig(YAML.replace('{name: b-1}\nspec: {address: 10.0.0.1', '{name: b-1}\nspec: {address: 10.0.0.9'), 'mesh.yaml').resources);
    assert.notEqual(moved.find('WorkloadEntry/default/b-1'), undefined);
    const registry = buildRegistrySnapshot(2, servicesFromConfig(moved), workloadsFromConfig(moved));
    const next = new PushContext('2', moved, registry, DEFAULT_MESH, { previous: first, changedHosts: new Set(['b.default.svc.cluster.local']), types: new Set([TYPE.endpoint]) });
    generator.publish(next, { reason: 'test', changedAt: performance.now() });
    const after = generator.generate(a, TYPE.endpoint, undefined);
    const edsLookups = [...next.memo.keys()].filter((k) => k.startsWith('eds|'));
    assert.deepEqual(edsLookups, ['eds|outbound|80||b.default.svc.cluster.local|default'], 'only b\'s assignment is looked up');
    const full = new XdsGenerator(new PushContext('2', moved, registry)).generate(a, TYPE.endpoint, undefined);
    assert.equal(after.version, full.version);
    assert.deepEqual(after.resources.map((r) => [r.name, r.version]), full.resources.map((r) => [r.name, r.version]));
    assert.notEqual(after.version, before.version);
    after.resources.forEach((r, i) => {
      if (r.name.endsWith('|a.default.svc.cluster.local')) assert.equal(r, before.resources[i], `${r.name} is kept`);
      else assert.notEqual(r.version, before.resources[i]!.version, `${r.name} changed`);
    });
  });
});
