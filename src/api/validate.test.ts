/** Document-level validation: kind identification, metadata, foreign kinds, Lists, line placement. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.ts';

const problems = (yaml: string) => parseConfig(yaml, 'in.yaml').problems.map((p) => `${p.line} ${p.severity} ${p.field}: ${p.message}`);

describe('document validation', () => {
  it('names unknown kinds with a suggestion, and wrong versions with the served ones', () => {
    assert.match(problems('apiVersion: networking.istio.io/v1\nkind: VirtualServce\nmetadata: {name: a}\n')[0]!, /^2 error kind: unknown kind "VirtualServce" \(did you mean "VirtualService"\?\)/);
    assert.match(problems('apiVersion: networking.istio.io/v2\nkind: Gateway\nmetadata: {name: a}\nspec: {}\n')[0]!, /^1 error apiVersion: Gateway is not served as "networking.istio.io\/v2" \(use networking.istio.io\/v1, networking.istio.io\/v1beta1, networking.istio.io\/v1alpha3\)/);
    assert.match(problems('kind: Gateway\nmetadata: {name: a}\n')[0]!, /apiVersion: is required/);
  });

  it('skips Kubernetes kinds (info) and warns about Istio kinds weft does not implement', () => {
    const set = parseConfig('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n---\napiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: f}\nspec: {}\n', 'in.yaml');
    assert.deepEqual(set.problems.map((p) => p.severity), ['info', 'warning']);
    assert.equal(set.foreign.length, 2);
    assert.match(problems('apiVersion: apps/v1\nkind: Deploymnt\nmetadata: {name: web}\n')[0]!, /error kind: unknown kind "Deploymnt"/);
  });

  it('checks metadata with the kind\'s name rule and defaults the namespace', () => {
    assert.match(problems('apiVersion: v1\nkind: Service\nmetadata: {name: 1svc}\nspec: {ports: [{port: 80}]}\n')[0]!, /metadata\.name: must be a DNS-1035 label/);
    const set = parseConfig('apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio-injection: enabled}}\n', 'in.yaml');
    assert.equal(set.resources[0]!.metadata.namespace, '');
    assert.match(problems('apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: x}\n')[0]!, /cluster-scoped/);
  });

  it('reads a Kubernetes List item by item, placing problems at the item\'s lines', () => {
    const out = problems('apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n  spec: {ports: [{port: 0}]}\n');
    assert.deepEqual(out, ['7 error spec.ports[0].port: must be an integer between 1 and 65535 (got 0)']);
  });

  it('reads a top-level array (a JSON file of resources) item by item', () => {
    const json = JSON.stringify([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' }, spec: { ports: [{ port: 0 }] } },
    ], null, 2);
    const set = parseConfig(json, 'in.json');
    assert.equal(set.resources.length, 1);
    assert.deepEqual(set.problems.map((p) => `${p.line} ${p.field}`), ['18 spec.ports[0].port']);
  });

  it('reports YAML syntax errors with their line and keeps the other documents', () => {
    const set = parseConfig('a: [1\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\nx: 1\nx: 2\n', 'in.yaml');
    assert.deepEqual(set.problems.map((p) => `${p.line} ${p.message.slice(0, 11)}`), ['2 YAML syntax', '8 YAML syntax']);
    assert.equal(set.resources.length, 1);
  });

  it('keeps a warning-only resource', () => {
    const set = parseConfig('apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s}\nspec:\n  workloadSelector: {labels: {}}\n  egress: [{hosts: ["./*"]}]\n', 'in.yaml');
    assert.equal(set.resources.length, 1);
    assert.ok(set.problems.every((p) => p.severity === 'warning'));
  });
});
