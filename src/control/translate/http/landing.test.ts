/**
 * Translation checked by behaviour: routes from VirtualServices are put in a route configuration
 * behind a listener, and simulated calls must land where Istio would send them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpRoutes } from './http-routes.ts';
import { defaultRoute } from './default-route.ts';
import { context, encodeRoutes, virtualService } from './testing.ts';
import { simulate, type ProxyConfig } from '../../simulate/index.ts';
import type { EnvoyRoute } from './context.ts';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

function proxyWith(reviews: readonly EnvoyRoute[]): ProxyConfig {
  encodeRoutes(reviews);
  const cluster = (name: string, ip: string) => [name, { name, type: 'STATIC', loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: ip, portValue: 9080 } } } }] }] } }];
  return {
    listeners: {
      virtualOutbound: {
        name: 'virtualOutbound',
        address: { socketAddress: { address: '127.0.1.1', portValue: 15001 } },
        filterChains: [{ filters: [{ name: 'hcm', typedConfig: { '@type': HCM, rds: { routeConfigName: '15001' } } }] }],
      },
    },
    routes: {
      '15001': {
        name: '15001',
        virtualHosts: [
          { name: 'reviews', domains: ['reviews:9080'], routes: reviews },
          { name: 'ratings', domains: ['ratings:9080'], routes: [defaultRoute('outbound|9080||ratings.default.svc.cluster.local', context())] },
        ],
      },
    },
    clusters: Object.fromEntries([
      cluster('outbound|9080|v1|reviews.default.svc.cluster.local', '127.0.1.2'),
      cluster('outbound|9080|v2|reviews.default.svc.cluster.local', '127.0.1.3'),
      cluster('outbound|9080|v3|reviews.default.svc.cluster.local', '127.0.1.4'),
      cluster('outbound|9080||ratings.default.svc.cluster.local', '127.0.1.5'),
      ['BlackHoleCluster', { name: 'BlackHoleCluster', type: 'STATIC' }],
    ]),
  };
}

const JASON_V2 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
  - match:
    - withoutHeaders:
        x-canary: {}
      uri: {prefix: /stable}
    route:
    - destination: {host: reviews, subset: v1}
  - route:
    - destination: {host: reviews, subset: v3}`;

test('bookinfo reviews: jason lands on v2, others on v3, /stable without canary on v1', () => {
  const proxy = proxyWith(httpRoutes(virtualService(JASON_V2), context()));
  const call = (path: string, headers: Record<string, string> = {}) => simulate(proxy, { port: 15001, authority: 'reviews:9080', path, headers });
  const jason = call('/reviews/0', { 'end-user': 'jason' });
  assert.deepEqual([jason.cluster, jason.endpoints], ['outbound|9080|v2|reviews.default.svc.cluster.local', ['127.0.1.3:9080']]);
  assert.equal(call('/reviews/0', { 'end-user': 'json' }).cluster, 'outbound|9080|v3|reviews.default.svc.cluster.local');
  assert.equal(call('/stable/x').cluster, 'outbound|9080|v1|reviews.default.svc.cluster.local');
  assert.equal(call('/stable/x', { 'x-canary': '1' }).cluster, 'outbound|9080|v3|reviews.default.svc.cluster.local');
  assert.equal(simulate(proxy, { port: 15001, authority: 'ratings:9080' }).cluster, 'outbound|9080||ratings.default.svc.cluster.local');
});

test('an unknown destination answers 503 with x-weft-error; a partly unknown split keeps the known share', () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /gone}}]
    route:
    - destination: {host: reviewz}
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 75
    - destination: {host: reviewz}
      weight: 25`;
  const proxy = proxyWith(httpRoutes(virtualService(yaml), context()));
  const gone = simulate(proxy, { port: 15001, authority: 'reviews:9080', path: '/gone' });
  assert.deepEqual([gone.action, gone.status], ['direct_response', 503]);
  assert.match(gone.responseHeaders?.['x-weft-error'] ?? '', /no service for destination host "reviewz"/);
  const split = simulate(proxy, { port: 15001, authority: 'reviews:9080', path: '/' });
  assert.equal(split.ok, true, split.error?.message);
  assert.deepEqual(split.clusters.map((c) => [c.name, c.weight, c.endpoints.length]), [
    ['outbound|9080|v1|reviews.default.svc.cluster.local', 75, 1],
    ['BlackHoleCluster', 25, 0],
  ]);
});
