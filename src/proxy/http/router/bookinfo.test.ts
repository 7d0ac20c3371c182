/**
 * The route configurations weft's control plane generates for Istio's bookinfo samples
 * (test/fixtures/istio/bookinfo: every networking file over the bookinfo platform and its destination
 * rules, for sidecars and the ingress gateway) compile without a single problem, and for a spread of
 * calls our selection lands where the control plane's simulator (an independent implementation of the
 * same Envoy semantics) says: same virtual host, same route, same action, same candidate clusters.
 * Test-only imports of the control plane; production code under src/proxy never imports it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { testMesh, type NodeSpec, type TestMesh } from '../../../control/translate/harness.ts';
import { simulate, type Call, type SimResult } from '../../../control/simulate/index.ts';
import { sidecarConfig } from '../../../control/simulate/fixture.ts';
import { compileRouteConfiguration } from './compile.ts';
import { selectRoute } from './select.ts';
import { request } from './testing.ts';
import type { CompiledRoutes, Decision } from './types.ts';

const DIR = path.resolve(import.meta.dirname, '../../../../test/fixtures/istio/bookinfo');
const read = (f: string) => readFileSync(path.join(DIR, f), 'utf8');
const BASE = `${read('platform-kube-bookinfo.yaml')}\n---\n${read('destination-rule-all.yaml')}\n---\n${read('bookinfo-gateway.yaml')}`;
const SKIP = new Set(['platform-kube-bookinfo.yaml', 'destination-rule-all.yaml', 'bookinfo-gateway.yaml']);
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && !SKIP.has(f)).sort();

const app = (name: string, version: string, ip: string): NodeSpec => ({ name: `${name}-${version}`, ip, labels: { app: name, version }, ports: [{ name: 'http', containerPort: 9080 }] });
const NODES: NodeSpec[] = [
  app('productpage', 'v1', '127.0.1.1'), app('reviews', 'v1', '127.0.1.2'), app('reviews', 'v2', '127.0.1.3'), app('reviews', 'v3', '127.0.1.4'),
  app('ratings', 'v1', '127.0.1.5'), app('details', 'v1', '127.0.1.6'),
  { kind: 'router', name: 'ingressgateway', namespace: 'istio-system', ip: '127.0.0.1', labels: { istio: 'ingressgateway' } },
];

function meshFor(file: string): TestMesh {
  return testMesh(`${BASE}\n---\n${read(file)}`, NODES);
}

/** Route configurations inline in the listeners' connection managers (`route_config`), by name. */
function inlineRouteConfigs(listeners: Readonly<Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    const rc = o['routeConfig'];
    if (typeof o['@type'] === 'string' && o['@type'].endsWith('.HttpConnectionManager') && typeof rc === 'object' && rc !== null) {
      out[String((rc as Record<string, unknown>)['name'] ?? '')] = rc as Record<string, unknown>;
    }
    Object.values(o).forEach(walk);
  };
  walk(listeners);
  return out;
}

/** Every route configuration a proxy receives (RDS and inline), by name. */
function routeConfigsOf(m: TestMesh, node: string): Record<string, Record<string, unknown>> {
  const c = m.config(node);
  return { ...inlineRouteConfigs(c.listeners), ...c.routes };
}

/** Every route configuration every proxy of the mesh receives, compiled. */
function compileAll(m: TestMesh): Map<string, { config: CompiledRoutes; problems: string[] }> {
  const out = new Map<string, { config: CompiledRoutes; problems: string[] }>();
  for (const node of NODES) {
    for (const [name, rc] of Object.entries(routeConfigsOf(m, node.name))) out.set(`${node.name}/${name}`, compileRouteConfiguration(rc));
  }
  return out;
}

describe('bookinfo route configurations', () => {
  it('there are sample files to check', () => assert.ok(FILES.length >= 15, FILES.join(', ')));

  for (const file of FILES) {
    it(`${file}: every route configuration compiles with zero problems`, () => {
      const all = compileAll(meshFor(file));
      assert.ok(all.size >= NODES.length, `only ${all.size} route configurations`);
      for (const [key, { config, problems }] of all) {
        assert.deepEqual(problems, [], key);
        assert.ok(config.virtualHosts.length > 0, `${key} has virtual hosts`);
      }
    });
  }
});

const HOSTS = ['productpage', 'reviews', 'ratings', 'details'];
const SIDECAR_CALLS: Call[] = HOSTS.flatMap((h) => [
  { authority: `${h}:9080`, path: `/${h}/0` },
  { authority: `${h}.default.svc.cluster.local:9080`, path: '/' },
  { authority: `${h}:9080`, path: '/', headers: { 'end-user': 'jason' } },
  { authority: `${h}:9080`, path: '/ratings/1?x=1', headers: { 'end-user': 'bob' } },
  { authority: `${h}.default:9080`, path: '/health', method: 'POST' },
]).concat([{ authority: 'example.com:80', path: '/' }, { authority: 'unknown:9080', path: '/' }]).map((c) => ({ ...c, port: 15001 }));
const INBOUND_CALLS: Call[] = [
  { port: 9080, address: '127.0.1.2', authority: 'reviews:9080', path: '/reviews/0' },
  { port: 9080, address: '127.0.1.5', authority: 'ratings.default.svc.cluster.local:9080', path: '/ratings/0', headers: { 'end-user': 'jason' } },
];
const GATEWAY_CALLS: Call[] = ['/productpage', '/static/app.css', '/login', '/logout', '/api/v1/products/1', '/admin', '/'].flatMap((p) => [
  { port: 80, address: '127.0.0.1', authority: 'localhost', path: p },
  { port: 80, address: '127.0.0.1', authority: 'bookinfo.example.com:80', path: p, headers: { 'end-user': 'jason' } },
]);

/** Our decision in the simulator's terms. */
function summary(d: Decision): Record<string, unknown> {
  switch (d.kind) {
    case 'no_virtual_host':
      return { error: 'NO_VIRTUAL_HOST' };
    case 'no_route':
      return { virtualHost: d.virtualHost.name, error: 'NO_ROUTE' };
    case 'route': {
      const f = d.forward;
      const clusters = f.weighted ? f.targets.clusters.filter((c) => c.weight > 0).map((c) => c.name) : [d.cluster];
      return { virtualHost: d.virtualHost.name, routeIndex: d.route.index, action: 'route', clusters: clusters.sort() };
    }
    case 'redirect':
      return { virtualHost: d.virtualHost.name, routeIndex: d.route?.index, action: 'redirect', status: d.status };
    case 'direct_response':
      return { virtualHost: d.virtualHost.name, routeIndex: d.route.index, action: 'direct_response', status: d.status };
    case 'non_forwarding':
      return { virtualHost: d.virtualHost.name, routeIndex: d.route.index, action: 'non_forwarding' };
  }
}

function simSummary(r: SimResult): Record<string, unknown> {
  const code = r.error?.code;
  if (code === 'NO_VIRTUAL_HOST') return { error: code };
  if (code === 'NO_ROUTE') return { virtualHost: r.virtualHost, error: code };
  const base = { virtualHost: r.virtualHost, routeIndex: r.routeIndex, action: r.action };
  if (r.action === 'route') return { ...base, clusters: r.clusters.filter((c) => c.weight > 0).map((c) => c.name).sort() };
  return { ...base, status: r.status };
}

describe('agreement with the control plane\'s simulator', () => {
  for (const file of FILES) {
    it(`${file}: our selection and the simulator agree on every call`, () => {
      const m = meshFor(file);
      let compared = 0;
      for (const node of NODES) {
        const compiledByName = new Map(Object.entries(routeConfigsOf(m, node.name)).map(([n, rc]) => [n, compileRouteConfiguration(rc).config]));
        const calls = node.kind === 'router' ? GATEWAY_CALLS : [...SIDECAR_CALLS, ...INBOUND_CALLS];
        for (const call of calls) {
          const sim = m.call(node.name, call);
          const config = sim.routeConfig === undefined ? undefined : compiledByName.get(sim.routeConfig);
          if (config === undefined) continue; // the call never reached a route configuration (no listener…)
          const ours = selectRoute(config, request({
            method: call.method ?? 'GET', authority: call.authority, path: call.path, headers: call.headers ?? {}, random: 0.5,
          }));
          assert.deepEqual(summary(ours), simSummary(sim), `${node.name} ${JSON.stringify(call)}`);
          compared++;
        }
      }
      assert.ok(compared >= 5 * SIDECAR_CALLS.length + GATEWAY_CALLS.length, `only ${compared} calls compared`);
    });
  }
});

describe('agreement with the simulator on its own hand-written fixture', () => {
  it('redirects, direct responses, regex and query matchers, path-separated prefixes, wildcards, CONNECT', () => {
    const proxy = sidecarConfig();
    const config = compileRouteConfiguration(proxy.routes!['15001']!);
    assert.deepEqual(config.problems, []);
    const calls: Call[] = [
      { authority: 'reviews:9080', path: '/', headers: { 'end-user': 'jason' } },
      { authority: 'reviews:9080', path: '/API/v1' },
      { authority: 'reviews:9080', path: '/apiary' },
      { authority: 'ratings:9080', path: '/old' },
      { authority: 'ratings:9080', path: '/old?x=1' },
      { authority: 'ratings:9080', path: '/tea/42?brew' },
      { authority: 'ratings:9080', path: '/tea/42' },
      { authority: 'ratings:9080', path: '/missing/x' },
      { authority: 'ratings:9080', path: '/ratings/1' },
      { authority: 'www.example.com:15001', path: '/' },
      { authority: 'api.internal:15001', path: '/' },
      { authority: 'db.internal:5432', method: 'CONNECT' },
      { authority: 'elsewhere:80', path: '/' },
    ].map((c) => ({ ...c, port: 15001, address: '127.0.1.1' }));
    for (const call of calls) {
      const sim = simulate(proxy, call);
      const ours = selectRoute(config.config, request({ method: call.method ?? 'GET', authority: call.authority, path: call.method === 'CONNECT' ? undefined : call.path, headers: call.headers ?? {} }));
      assert.deepEqual(summary(ours), simSummary(sim), JSON.stringify(call));
    }
  });
});
