import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, resourceKey } from '../../api/index.ts';
import { configSnapshot, type ConfigSnapshot } from '../config-snapshot.ts';
import { routeHostsForConfigChange } from './change-scope.ts';

function snapshot(yaml: string): ConfigSnapshot {
  const set = parseConfig(yaml, 'test.yaml');
  const errors = set.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('; '));
  return configSnapshot(1, set.resources);
}

/** The route hosts of going from `before` to `after`, with every resource that differs counted as changed. */
function routeHosts(before: string, after: string): string[] | 'all' {
  const a = snapshot(before);
  const b = snapshot(after);
  const keys = new Set<string>();
  const text = (s: ConfigSnapshot) => new Map(s.resources.map((r) => [resourceKey(r), JSON.stringify(r)]));
  const [ta, tb] = [text(a), text(b)];
  for (const k of new Set([...ta.keys(), ...tb.keys()])) if (ta.get(k) !== tb.get(k)) keys.add(k);
  const out = routeHostsForConfigChange(a, b, keys);
  return out === 'all' ? out : [...out].sort();
}

const vs = (name: string, hosts: string, dest: string, ns = 'default') => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: [${hosts}]
  http: [{route: [{destination: {host: ${dest}, subset: v1}}]}]
`;
const dr = (host: string, subsets: string) => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr-${host.replace(/[^a-z]/g, '')}}
spec:
  host: ${host}
  subsets: [${subsets}]
`;

describe('routeHostsForConfigChange', () => {
  it('a VirtualService change touches the hosts it declares, before and after', () => {
    assert.deepEqual(routeHosts(vs('a', 'a', 'b'), vs('a', 'a2', 'c')), ['a.default.svc.cluster.local', 'a2.default.svc.cluster.local']);
    assert.deepEqual(routeHosts('', vs('w', '"*.example.com"', 'b')), ['*.example.com']);
  });

  it('a DestinationRule change touches its host and the hosts of every VirtualService routing to it', () => {
    const routes = vs('a', 'a', 'b') + vs('x', 'x', 'c') + vs('m', 'm', 'b.default.svc.cluster.local', 'other');
    assert.deepEqual(routeHosts(routes, routes + dr('b', '{name: v1, labels: {version: v1}}')),
      ['a.default.svc.cluster.local', 'b.default.svc.cluster.local', 'm.other.svc.cluster.local']);
    assert.deepEqual(routeHosts(routes + dr('"*.svc.cluster.local"', ''), routes),
      ['*.svc.cluster.local', 'a.default.svc.cluster.local', 'm.other.svc.cluster.local', 'x.default.svc.cluster.local']);
  });

  it('kinds routes do not depend on touch nothing; Sidecar, Gateway and delegate VirtualServices touch everything', () => {
    const pa = `---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec: {mtls: {mode: STRICT}}
`;
    assert.deepEqual(routeHosts('', pa), []);
    const everything = {
      Sidecar: 'kind: Sidecar\nmetadata: {name: default}\nspec: {egress: [{hosts: ["./*"]}]}',
      Gateway: 'kind: Gateway\nmetadata: {name: gw}\nspec:\n  selector: {istio: ingressgateway}\n  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]',
      'delegate VirtualService': 'kind: VirtualService\nmetadata: {name: delegate}\nspec:\n  http: [{route: [{destination: {host: b}}]}]',
    };
    for (const [what, body] of Object.entries(everything)) {
      assert.equal(routeHosts('', `---\napiVersion: networking.istio.io/v1\n${body}\n`), 'all', what);
    }
  });

  it('registry kinds are left to the registry', () => {
    assert.deepEqual(routeHosts('', `---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {ports: [{name: http, port: 80}]}
`), []);
  });
});
