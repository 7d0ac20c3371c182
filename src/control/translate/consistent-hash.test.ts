/**
 * DestinationRule consistent hashing through the whole translation: the cluster's load balancer and
 * the hash policy of every route that reaches it (the default route of a service without
 * VirtualService, VirtualService routes, gateway routes, proxyless gRPC), found by simulating the call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testMesh, type NodeSpec, type TestMesh } from './harness.ts';
import type { Call } from '../simulate/index.ts';

type R = Record<string, any>;

const SERVICES = `
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: productpage}
spec:
  selector: {app: productpage}
  ports: [{name: http, port: 9080}]
`;

const RULE = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 2048}}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer:
        consistentHash: {httpCookie: {name: session, path: /, ttl: 3600s}, maglev: {tableSize: 65537}}
  - name: v2
    labels: {version: v2}
`;

const NODES: NodeSpec[] = [
  { name: 'productpage-v1', ip: '127.0.1.1', labels: { app: 'productpage', version: 'v1' }, ports: [{ name: 'http', containerPort: 9080 }], vhds: true },
  { name: 'reviews-v1', ip: '127.0.1.2', labels: { app: 'reviews', version: 'v1' }, ports: [{ name: 'http', containerPort: 9080 }] },
  { name: 'reviews-v2', ip: '127.0.1.3', labels: { app: 'reviews', version: 'v2' }, ports: [{ name: 'http', containerPort: 9080 }] },
];

const REVIEWS = 'reviews.default.svc.cluster.local';
const viaProxy: Call = { port: 15001, address: '127.0.1.1', authority: 'reviews:9080', path: '/reviews/0' };

/** The route `call` from `proxy` matched, as the proxy received it. */
function matchedRoute(m: TestMesh, proxy: string, call: Call): R {
  const r = m.call(proxy, call);
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const rc = m.config(proxy).routes![r.routeConfig!] as R;
  const vh = (rc['virtualHosts'] as R[]).find((v) => v['name'] === r.virtualHost)!;
  return vh['routes'][r.routeIndex!]['route'];
}

describe('DestinationRule consistentHash', () => {
  it('sets the cluster load balancer from ringHash / maglev, subsets overriding the rule', () => {
    const clusters = testMesh(SERVICES + RULE, NODES).config('productpage-v1').clusters as R;
    assert.equal(clusters[`outbound|9080||${REVIEWS}`].lbPolicy, 'RING_HASH');
    assert.equal(String(clusters[`outbound|9080||${REVIEWS}`].ringHashLbConfig.minimumRingSize.value), '2048');
    assert.equal(clusters[`outbound|9080|v1|${REVIEWS}`].lbPolicy, 'MAGLEV');
    assert.equal(String(clusters[`outbound|9080|v1|${REVIEWS}`].maglevLbConfig.tableSize.value), '65537');
    assert.equal(clusters[`outbound|9080|v2|${REVIEWS}`].lbPolicy, 'RING_HASH');
  });

  it('the deprecated minimumRingSize sizes the ring; without it Istio writes Envoy\'s 1024', () => {
    const rule = (hash: string) => `${SERVICES}\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\nspec:\n  host: reviews\n  trafficPolicy: {loadBalancer: {consistentHash: ${hash}}}\n`;
    const size = (hash: string) => String((testMesh(rule(hash), NODES).config('productpage-v1').clusters as R)[`outbound|9080||${REVIEWS}`].ringHashLbConfig.minimumRingSize.value);
    assert.equal(size('{httpHeaderName: x-user, minimumRingSize: 512}'), '512');
    assert.equal(size('{httpHeaderName: x-user}'), '1024');
  });

  it('gives the default route of a service without VirtualService the rule\'s hash policy', () => {
    const route = matchedRoute(testMesh(SERVICES + RULE, NODES), 'productpage-v1', viaProxy);
    assert.equal(route['cluster'], `outbound|9080||${REVIEWS}`);
    assert.deepEqual(route['hashPolicy'], [{ header: { headerName: 'x-user' } }]);
    const other = matchedRoute(testMesh(SERVICES + RULE, NODES), 'productpage-v1', { ...viaProxy, authority: 'productpage:9080' });
    assert.equal(other['hashPolicy'], undefined);
  });

  it('gives a VirtualService route to a subset that subset\'s policy, and keeps retries on the hashed host', () => {
    const vs = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
`;
    const m = testMesh(SERVICES + RULE + vs, NODES);
    const v1 = matchedRoute(m, 'productpage-v1', viaProxy);
    assert.equal(v1['cluster'], `outbound|9080|v1|${REVIEWS}`);
    assert.deepEqual(v1['hashPolicy'], [{ cookie: { name: 'session', path: '/', ttl: { seconds: 3600 } } }]);
    assert.equal(v1['retryPolicy']['retryHostPredicate'], undefined);
    const v2 = matchedRoute(m, 'productpage-v1', { ...viaProxy, headers: { 'end-user': 'jason' } });
    assert.equal(v2['cluster'], `outbound|9080|v2|${REVIEWS}`);
    assert.deepEqual(v2['hashPolicy'], [{ header: { headerName: 'x-user' } }]);
  });

  it('without a rule the route has no hash policy and retries avoid hosts already tried', () => {
    const without = matchedRoute(testMesh(SERVICES, NODES), 'productpage-v1', viaProxy);
    assert.equal(without['hashPolicy'], undefined);
    assert.ok(Array.isArray(without['retryPolicy']['retryHostPredicate']));
  });

  it('gives gateway routes the destination\'s hash policy', () => {
    const gw = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{route: [{destination: {host: reviews, port: {number: 9080}}}]}]
`;
    const gateway: NodeSpec = { kind: 'router', name: 'ingressgateway', namespace: 'istio-system', ip: '127.0.0.1', labels: { istio: 'ingressgateway' } };
    const route = matchedRoute(testMesh(SERVICES + RULE + gw, [...NODES, gateway]), 'ingressgateway', { port: 8080, address: '127.0.0.1', authority: 'localhost:8080', path: '/' });
    assert.deepEqual(route['hashPolicy'], [{ header: { headerName: 'x-user' } }]);
  });

  it('gives proxyless gRPC clients the same hash policy', () => {
    const grpc: NodeSpec = { kind: 'grpc', name: 'client', ip: '127.0.1.50', labels: { app: 'client' } };
    const m = testMesh(SERVICES.replaceAll('name: http, port: 9080', 'name: grpc, port: 9080') + RULE, [...NODES, grpc]);
    const route = matchedRoute(m, 'client', { port: 9080, authority: `${REVIEWS}:9080`, path: '/reviews.Reviews/Get', method: 'POST', protocol: 'http2', headers: { 'content-type': 'application/grpc' } });
    assert.deepEqual(route['hashPolicy'], [{ header: { headerName: 'x-user' } }]);
  });
});
