/**
 * Weighted clusters: the pick follows Envoy's intervals over the request's random value, the split
 * converges to the weights over many draws, a weight of 0 is never picked, `header_name` overrides the
 * random value, and each entry carries its own header mutations (before the route's) and filter configs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileRouteConfiguration } from './compile.ts';
import { selectRoute } from './select.ts';
import { compiled, oneHost, request, type RequestSpec } from './testing.ts';
import type { CompiledRoutes } from './types.ts';

function weighted(weights: readonly number[], extra: Record<string, unknown> = {}): CompiledRoutes {
  const clusters = weights.map((w, i) => ({ name: `c${i}`, weight: { value: w } }));
  return compiled(oneHost([{ match: { prefix: '/' }, route: { weightedClusters: { clusters, ...extra } } }]));
}

function pick(config: CompiledRoutes, spec: RequestSpec): string {
  const d = selectRoute(config, request(spec));
  assert.equal(d.kind, 'route');
  return d.kind === 'route' ? d.cluster : '';
}

describe('weighted clusters', () => {
  it('picks by interval: value = random·2³² mod total, [0,w0) → c0, [w0,w0+w1) → c1…', () => {
    const config = weighted([80, 20]);
    const at = (v: number) => pick(config, { random: v / 2 ** 32 });
    assert.equal(at(0), 'c0');
    assert.equal(at(79), 'c0');
    assert.equal(at(80), 'c1');
    assert.equal(at(99), 'c1');
    assert.equal(at(100), 'c0');
  });

  it('over many draws the split converges to the weights, and weight 0 is never picked', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 6 }).filter((ws) => ws.some((w) => w > 0)), fc.integer(), (weights, seed) => {
        const config = weighted(weights);
        const total = weights.reduce((a, b) => a + b, 0);
        const counts = new Map<string, number>();
        let state = seed >>> 0 || 1; // xorshift never leaves 0
        const draws = 4000;
        for (let i = 0; i < draws; i++) {
          // xorshift32: a deterministic uniform source per property run.
          state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
          const c = pick(config, { random: state / 2 ** 32 });
          counts.set(c, (counts.get(c) ?? 0) + 1);
        }
        weights.forEach((w, i) => {
          const share = (counts.get(`c${i}`) ?? 0) / draws;
          if (w === 0) assert.equal(share, 0, `c${i} has weight 0`);
          else assert.ok(Math.abs(share - w / total) < 0.05, `c${i}: share ${share} vs ${w / total}`);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('header_name: a single unsigned integer in the header replaces the random value', () => {
    const config = weighted([50, 50], { headerName: 'x-pick' });
    assert.equal(pick(config, { random: 0, headers: { 'x-pick': '60' } }), 'c1');
    assert.equal(pick(config, { random: 0, headers: { 'x-pick': '160' } }), 'c1');
    const c1 = 60 / 2 ** 32;
    assert.equal(pick(config, { random: c1, headers: { 'x-pick': '18446744073709551615' } }), 'c0', '(2⁶⁴−1) mod 100 = 15');
    assert.equal(pick(config, { random: c1, headers: { 'x-pick': '18446744073709551616' } }), 'c1', 'beyond uint64: the random value');
  });

  it('header_name: a missing, repeated or malformed header falls back to the random value', () => {
    const config = weighted([50, 50], { headerName: 'x-pick' });
    assert.equal(pick(config, { random: 0 }), 'c0');
    assert.equal(pick(config, { random: 0, headers: { 'x-pick': ['60', '70'] } }), 'c0');
    assert.equal(pick(config, { random: 0, headers: { 'x-pick': '-60' } }), 'c0');
    assert.equal(pick(config, { random: 0, headers: { 'x-pick': 'sixty' } }), 'c0');
  });

  it('cluster_header entries name the cluster by request header', () => {
    const config = compiled(oneHost([{ match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ clusterHeader: 'x-cluster', weight: { value: 1 } }] } } }]));
    assert.equal(pick(config, { headers: { 'x-cluster': 'dynamic' } }), 'dynamic');
    assert.equal(pick(config, {}), '');
  });

  it('each entry brings its header mutations (applied before the route\'s), filter configs and host literal', () => {
    const fault = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { httpStatus: 503 } };
    const add = (key: string, value: string) => ({ header: { key, value } });
    const config = compiled(oneHost([{
      match: { prefix: '/' },
      requestHeadersToAdd: [add('x-level', 'route')],
      route: {
        weightedClusters: {
          clusters: [
            { name: 'a', weight: { value: 1 }, requestHeadersToAdd: [add('x-level', 'cluster-a')], hostRewriteLiteral: 'a.internal', typedPerFilterConfig: { 'envoy.filters.http.fault': fault } },
            { name: 'b', weight: { value: 1 } },
          ],
        },
      },
    }]));
    const a = selectRoute(config, request({ random: 0 }));
    const b = selectRoute(config, request({ random: 1 / 2 ** 32 }));
    assert.ok(a.kind === 'route' && b.kind === 'route');
    assert.deepEqual(a.target.requestHeaders.map((m) => m.add.map((h) => h.value)), [['cluster-a'], ['route']]);
    assert.deepEqual(b.target.requestHeaders.map((m) => m.add.map((h) => h.value)), [['route']]);
    assert.equal(a.authority, 'a.internal');
    assert.equal(b.authority, undefined);
    assert.equal(a.target.perFilterConfig.get('envoy.filters.http.fault')?.config, fault);
    assert.equal(b.target.perFilterConfig.size, 0);
  });

  it('reports zero totals, a missing or double cluster specifier and bad weights', () => {
    const { problems } = compileRouteConfiguration(oneHost([
      { match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ name: 'a', weight: { value: 0 } }] } } },
      { match: { prefix: '/' }, route: { weightedClusters: { clusters: [{ weight: { value: 1 } }, { name: 'b', clusterHeader: 'x', weight: { value: 1 } }, { name: 'c' }] } } },
      { match: { prefix: '/' }, route: { weightedClusters: { clusters: [] } } },
    ]));
    const base = 'virtualHosts[0].routes';
    assert.deepEqual(problems, [
      `${base}[0].route.weightedClusters.clusters: the sum of weights must be greater than 0`,
      `${base}[1].route.weightedClusters.clusters[0]: one of name or clusterHeader is required`,
      `${base}[1].route.weightedClusters.clusters[1]: only one of name or clusterHeader may be set`,
      `${base}[1].route.weightedClusters.clusters[2].weight: required`,
      `${base}[2].route.weightedClusters.clusters: at least one cluster required`,
    ]);
  });
});
