import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type SpecOf } from '../../../api/index.ts';
import { destinationConsistentHash, hashPolicy, serviceConsistentHash, type ConsistentHash } from './consistent-hash.ts';
import { httpRoutes } from './http-routes.ts';
import { defaultRoute } from './default-route.ts';
import { context, encodeRoutes, virtualService } from './testing.ts';

type R = Record<string, any>;

function rule(yaml: string): SpecOf<'DestinationRule'> {
  const set = parseConfig(`apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n${yaml}`, 'dr.yaml');
  assert.deepEqual(set.problems.filter((p) => p.severity === 'error'), []);
  return (set.resources[0] as { spec: SpecOf<'DestinationRule'> }).spec;
}

describe('hash key → Envoy hash policy (Istio consistentHashToHashPolicy)', () => {
  test('each hash key becomes its policy; no key, no policy', () => {
    assert.deepEqual(hashPolicy({ httpHeaderName: 'x-user' }), { header: { headerName: 'x-user' } });
    assert.deepEqual(hashPolicy({ useSourceIp: true }), { connectionProperties: { sourceIp: true } });
    assert.deepEqual(hashPolicy({ httpQueryParameterName: 'u' }), { queryParameter: { name: 'u' } });
    assert.deepEqual(hashPolicy({ httpCookie: { name: 'affinity', path: '/app', ttl: '1.5s' } }),
      { cookie: { name: 'affinity', ttl: { seconds: 1, nanos: 500000000 }, path: '/app' } });
    assert.equal(hashPolicy({ ringHash: { minimumRingSize: 2048 } }), undefined);
    assert.equal(hashPolicy(undefined), undefined);
  });

  test('a cookie without ttl is only read, a zero ttl asks for a session cookie; attributes pass through', () => {
    assert.deepEqual(hashPolicy({ httpCookie: { name: 'c' } }), { cookie: { name: 'c' } });
    assert.deepEqual(hashPolicy({ httpCookie: { name: 'c', ttl: '0s', attributes: [{ name: 'SameSite', value: 'Strict' }, { name: 'Secure' }] } }),
      { cookie: { name: 'c', ttl: { seconds: 0 }, attributes: [{ name: 'SameSite', value: 'Strict' }, { name: 'Secure' }] } });
  });

  test('the policies encode with Envoy\'s protos', () => {
    const hashes: ConsistentHash[] = [{ httpHeaderName: 'x-user' }, { useSourceIp: true }, { httpQueryParameterName: 'u' }, { httpCookie: { name: 'c', ttl: '10s', path: '/', attributes: [{ name: 'Secure' }] } }];
    const route = defaultRoute('outbound|9080||reviews.default.svc.cluster.local', context());
    (route['route'] as R)['hashPolicy'] = hashes.map(hashPolicy);
    const decoded = encodeRoutes([route]) as R;
    assert.equal(decoded['virtualHosts'][0].routes[0].route.hashPolicy.length, 4);
  });
});

describe('which consistent hash applies (Istio hashForService / hashForHTTPDestination)', () => {
  const dr = rule(`  host: reviews
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-rule}}
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer: {consistentHash: {httpHeaderName: x-rule-port}}
    - port: {number: 9090}
      loadBalancer: {simple: RANDOM}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer: {consistentHash: {httpCookie: {name: v1, ttl: 60s}}}
      portLevelSettings:
      - port: {number: 9080}
        loadBalancer: {consistentHash: {useSourceIp: true}}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}`);

  test('default route: the port-level hash when that port has one, else the rule\'s', () => {
    assert.deepEqual(serviceConsistentHash(dr, 9080), { httpHeaderName: 'x-rule-port' });
    assert.deepEqual(serviceConsistentHash(dr, 9090), { httpHeaderName: 'x-rule' });
    assert.deepEqual(serviceConsistentHash(dr, 7000), { httpHeaderName: 'x-rule' });
    assert.equal(serviceConsistentHash(undefined, 9080), undefined);
  });

  test('destination: subset port level, subset, rule port level, rule; port levels only with a destination port', () => {
    assert.deepEqual(destinationConsistentHash(dr, { subset: 'v1', port: 9080 }), { useSourceIp: true });
    assert.deepEqual(destinationConsistentHash(dr, { subset: 'v1' })?.httpCookie?.name, 'v1');
    assert.deepEqual(destinationConsistentHash(dr, { subset: 'v2', port: 9080 }), { httpHeaderName: 'x-rule-port' });
    assert.deepEqual(destinationConsistentHash(dr, { subset: 'v2' }), { httpHeaderName: 'x-rule' });
    assert.deepEqual(destinationConsistentHash(dr, {}), { httpHeaderName: 'x-rule' });
    assert.deepEqual(destinationConsistentHash(dr, { port: 9080 }), { httpHeaderName: 'x-rule-port' });
    assert.equal(destinationConsistentHash(undefined, { port: 9080 }), undefined);
  });
});

describe('VirtualService routes carry their destinations\' hash policies', () => {
  const HASHES: Readonly<Record<string, ConsistentHash>> = {
    'reviews.default.svc.cluster.local': { httpHeaderName: 'x-user' },
    'ratings.default.svc.cluster.local': { httpCookie: { name: 'r', ttl: '0s' } },
    'details.default.svc.cluster.local': { ringHash: { minimumRingSize: 64 } },
  };
  const ctx = context({ consistentHash: (d, ns) => HASHES[d.host.includes('.') ? d.host : `${d.host}.${ns}.svc.cluster.local`] });
  const routesOf = (http: string): R[] => {
    const out = httpRoutes(virtualService(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [reviews]
  http:
${http}`), ctx);
    encodeRoutes(out);
    return out as R[];
  };

  test('one destination: its policy, and retries stay on the hashed host', () => {
    const [r] = routesOf(`  - route: [{destination: {host: reviews}}]`);
    assert.deepEqual(r!.route.hashPolicy, [{ header: { headerName: 'x-user' } }]);
    assert.equal(r!.route.retryPolicy.retryHostPredicate, undefined);
    const [explicit] = routesOf(`  - route: [{destination: {host: reviews}}]\n    retries: {attempts: 3, retryOn: 5xx}`);
    assert.equal(explicit!.route.retryPolicy.retryHostPredicate, undefined);
    assert.equal(explicit!.route.retryPolicy.numRetries.value, 3);
  });

  test('a consistent hash without a key adds no policy but still keeps retries on the host', () => {
    const [r] = routesOf(`  - route: [{destination: {host: details}}]`);
    assert.equal(r!.route.hashPolicy, undefined);
    assert.equal(r!.route.retryPolicy.retryHostPredicate, undefined);
  });

  test('no consistent hash: no policy, previous hosts avoided on retry', () => {
    const [r] = routesOf(`  - route: [{destination: {host: productpage}}]`);
    assert.equal(r!.route.hashPolicy, undefined);
    assert.ok(Array.isArray(r!.route.retryPolicy.retryHostPredicate));
  });

  test('weighted destinations each add their policy in order; retries keep the previous-hosts predicate', () => {
    const [r] = routesOf(`  - route:
    - {destination: {host: reviews}, weight: 50}
    - {destination: {host: productpage}, weight: 20}
    - {destination: {host: ratings}, weight: 30}
    - {destination: {host: details}, weight: 0}`);
    assert.deepEqual(r!.route.hashPolicy, [{ header: { headerName: 'x-user' } }, { cookie: { name: 'r', ttl: { seconds: 0 } } }]);
    assert.ok(Array.isArray(r!.route.retryPolicy.retryHostPredicate));
  });
});

test('the default route carries the service\'s hash policy and keeps Istio\'s default retry policy', () => {
  const r = defaultRoute('outbound|9080||reviews.default.svc.cluster.local', context(), { httpHeaderName: 'x-user' }) as R;
  assert.deepEqual(r['route'].hashPolicy, [{ header: { headerName: 'x-user' } }]);
  assert.ok(Array.isArray(r['route'].retryPolicy.retryHostPredicate));
  assert.equal((defaultRoute('outbound|9080||reviews.default.svc.cluster.local', context()) as R)['route'].hashPolicy, undefined);
});
