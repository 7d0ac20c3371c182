import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileTcpProxy, pickCluster } from './config.ts';

function compile(config: Record<string, unknown>): { problems: string[]; c: ReturnType<typeof compileTcpProxy> } {
  const problems: string[] = [];
  return { c: compileTcpProxy(config, 'typedConfig', problems), problems };
}

test('defaults: one hour idle timeout, one connect attempt, no duration limit', () => {
  const { c, problems } = compile({ statPrefix: 's', cluster: 'a' });
  assert.deepEqual(problems, []);
  assert.deepEqual(c, { statPrefix: 's', clusters: ['a'], cumulative: [1], idleTimeoutMs: 3_600_000, maxConnectAttempts: 1, maxDurationMs: 0, hashSourceIp: false });
});

test('explicit settings, a zero idle timeout disables it, source-IP hashing', () => {
  const { c, problems } = compile({
    statPrefix: 's',
    weightedClusters: { clusters: [{ name: 'a', weight: 3 }, { name: 'b', weight: 1 }] },
    idleTimeout: {},
    maxConnectAttempts: { value: 3 },
    maxDownstreamConnectionDuration: { seconds: 2, nanos: 500_000_000 },
    hashPolicy: [{ sourceIp: {} }],
  });
  assert.deepEqual(problems, []);
  assert.deepEqual([c.clusters, c.cumulative, c.idleTimeoutMs, c.maxConnectAttempts, c.maxDurationMs, c.hashSourceIp], [['a', 'b'], [3, 4], 0, 3, 2500, true]);
});

test('every problem is reported', () => {
  const { problems } = compile({
    cluster: 'a',
    weightedClusters: { clusters: [{ name: '', weight: 0 }, { name: 'b', weight: 1, metadataMatch: { filterMetadata: {} } }] },
    maxConnectAttempts: { value: 0 },
    hashPolicy: [{ filterState: { key: 'k' } }],
    tunnelingConfig: { hostname: 'h' },
    idleTimeout: { seconds: -1 },
  });
  const text = problems.join('\n');
  for (const want of [
    /typedConfig\.statPrefix: must not be empty/,
    /typedConfig: set only one of cluster and weightedClusters/,
    /typedConfig\.weightedClusters\.clusters\[0\]\.name: must not be empty/,
    /typedConfig\.weightedClusters\.clusters\[0\]\.weight: must be at least 1 \(got 0\)/,
    /typedConfig\.weightedClusters\.clusters\[1\]\.metadataMatch: subset selection/,
    /typedConfig\.maxConnectAttempts: must be at least 1/,
    /typedConfig\.hashPolicy\[0\]: only source_ip hashing/,
    /typedConfig\.tunnelingConfig: not supported by weft/,
    /typedConfig\.idleTimeout: must be a non-negative duration/,
  ]) assert.match(text, want);
  assert.match(compile({ statPrefix: 's' }).problems.join(), /one of cluster or weightedClusters is required/);
});

test('property: weighted picks follow the weights exactly over an even spread of random numbers', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }), (weights) => {
    const { c } = compile({ statPrefix: 's', weightedClusters: { clusters: weights.map((weight, i) => ({ name: `c${i}`, weight })) } });
    const total = weights.reduce((a, b) => a + b, 0);
    const counts = new Map<string, number>();
    for (let k = 0; k < total; k++) {
      const name = pickCluster(c, () => (k + 0.5) / total);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    weights.forEach((w, i) => assert.equal(counts.get(`c${i}`) ?? 0, w));
  }));
});
