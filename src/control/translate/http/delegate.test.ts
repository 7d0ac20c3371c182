import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { httpRoutes } from './http-routes.ts';
import { matchesConflict, stringMatchConflict } from './delegate.ts';
import { context, encodeRoutes, virtualService } from './testing.ts';

type R = Record<string, any>;

const ROOT = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: default}
spec:
  hosts: [bookinfo.example.com]
  gateways: [ingress]
  http:
  - name: reviews
    match: [{uri: {prefix: /reviews}}]
    timeout: 5s
    headers: {request: {set: {x-root: '1'}}}
    delegate: {name: reviews-routes, namespace: other}
  - name: missing
    match: [{uri: {prefix: /missing}}]
    delegate: {name: nothing}
  - name: rest
    route:
    - destination: {host: productpage}`;

const DELEGATE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-routes, namespace: other}
spec:
  http:
  - name: v2
    match: [{uri: {prefix: /reviews/v2}, headers: {end-user: {exact: jason}}}]
    route:
    - destination: {host: backend}
  - name: outside
    match: [{uri: {prefix: /ratings}}]
    route:
    - destination: {host: backend}
  - name: all
    timeout: 1s
    route:
    - destination: {host: backend}`;

function translate(root: string, delegate: string): R[] {
  const ctx = context({ gateway: 'default/ingress', listenerPort: 80 }, [virtualService(delegate)]);
  const out = httpRoutes(virtualService(root), ctx);
  encodeRoutes(out);
  return out as R[];
}

describe('delegate', () => {
  test('the delegate\'s routes replace the root route, narrowed by its match and inheriting its policies', () => {
    const out = translate(ROOT, DELEGATE);
    assert.deepEqual(out.map((r) => r.name), ['reviews-v2', 'reviews-all', 'rest']);
    const [v2, all] = out;
    assert.equal(v2!.match.prefix, '/reviews/v2');
    assert.deepEqual(v2!.match.headers, [{ name: 'end-user', stringMatch: { exact: 'jason' } }]);
    // Short names in the delegate resolve in the delegate's namespace.
    assert.equal(v2!.route.cluster, 'outbound|8000||backend.other.svc.cluster.local');
    assert.deepEqual(v2!.route.timeout, { seconds: 5 });
    assert.equal(v2!.requestHeadersToAdd[0].header.key, 'x-root');
    // A delegate route without match takes the root's; its own policies win.
    assert.equal(all!.match.prefix, '/reviews');
    assert.deepEqual(all!.route.timeout, { seconds: 1 });
  });

  test('a delegate that is not exported to the root\'s namespace is ignored, as is one with hosts', () => {
    const hidden = DELEGATE.replace('spec:\n', 'spec:\n  exportTo: ["."]\n');
    assert.deepEqual(translate(ROOT, hidden).map((r) => r.name), ['rest']);
    const visible = DELEGATE.replace('spec:\n', 'spec:\n  exportTo: [default]\n');
    assert.equal(translate(ROOT, visible).length, 3);
  });
});

describe('match conflicts (Istio\'s hasConflict)', () => {
  test('string matches: prefix roots admit longer prefixes and exact values under them', () => {
    assert.equal(stringMatchConflict({ prefix: '/a' }, { prefix: '/a/b' }), false);
    assert.equal(stringMatchConflict({ prefix: '/a/b' }, { prefix: '/a' }), true);
    assert.equal(stringMatchConflict({ prefix: '/a' }, { exact: '/a/x' }), false);
    assert.equal(stringMatchConflict({ exact: '/a' }, { exact: '/a' }), false);
    assert.equal(stringMatchConflict({ exact: '/a' }, { prefix: '/a' }), true);
    assert.equal(stringMatchConflict({ regex: '/a.*' }, { exact: '/a' }), true);
    assert.equal(stringMatchConflict({ exact: '/a' }, { regex: '/a' }), true);
    assert.equal(stringMatchConflict(undefined, { regex: '/a' }), false);
  });

  test('ports, case sensitivity, source namespace and gateways must agree', () => {
    assert.equal(matchesConflict({ port: 80 }, { port: 8080 }), true);
    assert.equal(matchesConflict({ port: 80 }, {}), false);
    assert.equal(matchesConflict({ ignoreUriCase: true }, {}), true);
    assert.equal(matchesConflict({ sourceNamespace: 'a' }, { sourceNamespace: 'b' }), true);
    assert.equal(matchesConflict({ sourceLabels: { app: 'a' } }, { sourceLabels: { app: 'b' } }), true);
    assert.equal(matchesConflict({ gateways: ['a', 'b'] }, { gateways: ['a'] }), false);
    assert.equal(matchesConflict({ gateways: ['a'] }, { gateways: ['c'] }), true);
  });
});
