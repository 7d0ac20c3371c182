import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, resourceKey } from '../api/index.ts';
import { configSnapshot, orderKeyOfKey, snapshotOrderKey } from './config-snapshot.ts';

test('find looks every resource up by key, and misses what is not there', () => {
  const yaml = ['b', 'a-b', 'a', 'default', 'z'].flatMap((ns) => ['r', 'q', 'r2'].map((name) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: ${ns} }
spec: { host: ${name} }
`)).concat(['one', 'two'].map((name) => `apiVersion: v1
kind: Namespace
metadata: { name: ${name} }
`)).join('---\n');
  const set = parseConfig(yaml, 'x.yaml');
  assert.deepEqual(set.problems.filter((p) => p.severity === 'error'), []);
  const snap = configSnapshot(1, [...set.resources].reverse());
  assert.equal(snap.resources.length, 17);
  for (const r of set.resources) assert.equal(snap.find(resourceKey(r)), snap.resources.find((x) => resourceKey(x) === resourceKey(r)), resourceKey(r));
  assert.equal(snap.find('DestinationRule/a/missing'), undefined);
  assert.equal(snap.find('VirtualService/a/r'), undefined);
  assert.equal(snap.find('Namespace//two')?.metadata.name, 'two');
  for (const r of set.resources) assert.equal(orderKeyOfKey(resourceKey(r)), snapshotOrderKey(r), 'the order key follows from the key alone');
});
