import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTlsRedirect, simulate } from './simulate.ts';
import { CLUSTERS, grpcConfig, sidecarConfig } from './fixture.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { decodeResource, encodeResource } from '../../xds/protos.ts';
import type { Plain, ProxyConfig } from './types.ts';

const config = sidecarConfig();

/** The same resources after a trip through Envoy's protos: what a proxy (or config_dump) would hold. */
function roundTrip(c: ProxyConfig): ProxyConfig {
  const trip = (type: string, m: Readonly<Record<string, Plain>> | undefined) =>
    Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, decodeResource(type, encodeResource(type, v))]));
  return {
    listeners: trip(TYPE.listener, c.listeners),
    routes: trip(TYPE.route, c.routes),
    clusters: trip(TYPE.cluster, c.clusters),
    endpoints: trip(TYPE.endpoint, c.endpoints),
  };
}

describe('simulate: local-mode HTTP proxy on 15001', () => {
  test('routes by authority: a header match lands on v2 and its healthy endpoints', () => {
    const r = simulate(config, { port: 15001, address: '127.0.1.1', authority: 'reviews:9080', path: '/reviews/1', headers: { 'End-User': 'jason' } });
    assert.equal(r.ok, true, r.error?.message);
    assert.equal(r.listener, 'virtualOutbound');
    assert.equal(r.filterChain, 'virtualOutbound');
    assert.equal(r.routeConfig, '15001');
    assert.equal(r.virtualHost, 'reviews.default.svc.cluster.local:9080');
    assert.equal(r.route, 'jason');
    assert.equal(r.cluster, CLUSTERS.R2);
    assert.deepEqual(r.endpoints, ['127.0.1.3:9080']);
  });

  test('weighted clusters list every candidate with its weight', () => {
    const r = simulate(config, { port: 15001, authority: 'reviews.default:9080', path: '/' });
    assert.equal(r.route, 'split');
    assert.equal(r.cluster, undefined);
    assert.deepEqual(r.clusters.map((c) => [c.name, c.weight, c.endpoints]), [
      [CLUSTERS.R1, 80, ['127.0.1.2:9080']],
      [CLUSTERS.R2, 20, ['127.0.1.3:9080']],
    ]);
  });

  test('path_separated_prefix and case-insensitive matching', () => {
    assert.equal(simulate(config, { port: 15001, authority: 'reviews:9080', path: '/API/x?y=1' }).route, 'api');
    assert.equal(simulate(config, { port: 15001, authority: 'reviews:9080', path: '/api' }).route, 'api');
    assert.equal(simulate(config, { port: 15001, authority: 'reviews:9080', path: '/apix' }).route, 'split');
  });

  test('traffic to a port without a listener falls back to virtualOutbound, authority gaining the port', () => {
    const r = simulate(config, { port: 9080, address: '10.0.0.9', authority: 'reviews', headers: { 'end-user': 'jason' } });
    assert.equal(r.listener, 'virtualOutbound');
    assert.equal(r.cluster, CLUSTERS.R2);
  });

  test('redirect, direct response (regex path, query presence) and response headers', () => {
    const moved = simulate(config, { port: 15001, authority: 'ratings:9080', path: '/old' });
    assert.deepEqual([moved.action, moved.status, moved.redirect?.['pathRedirect']], ['redirect', 302, '/new']);
    const tea = simulate(config, { port: 15001, authority: 'ratings:9080', path: '/tea/42?brew' });
    assert.deepEqual([tea.action, tea.status, tea.body, tea.route], ['direct_response', 418, 'short and stout', 'teapot']);
    // The regex must match the whole path; without the query parameter the route does not match either.
    assert.equal(simulate(config, { port: 15001, authority: 'ratings:9080', path: '/tea/42x?brew' }).route, 'default');
    const plain = simulate(config, { port: 15001, authority: 'ratings:9080', path: '/tea/42' });
    assert.equal(plain.route, 'default');
    assert.deepEqual(plain.responseHeaders, { 'x-weft-route': 'default' });
    assert.deepEqual(plain.endpoints, ['127.0.1.5:9080', '127.0.1.6:9080']);
  });

  test('a route naming a cluster the proxy was not sent is an UNKNOWN_CLUSTER failure', () => {
    const r = simulate(config, { port: 15001, authority: 'ratings:9080', path: '/missing' });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'UNKNOWN_CLUSTER');
    assert.equal(r.clusters[0]?.exists, false);
  });

  test('virtual hosts: exact, then suffix wildcard, then prefix wildcard, then *', () => {
    assert.equal(simulate(config, { port: 15001, authority: 'x.example.com' }).virtualHost, 'wild');
    assert.equal(simulate(config, { port: 15001, authority: 'api.other.org' }).virtualHost, 'wild');
    assert.equal(simulate(config, { port: 15001, authority: 'Reviews:9080' }).virtualHost, 'reviews.default.svc.cluster.local:9080');
    const any = simulate(config, { port: 15001, address: '127.0.1.1', authority: 'example.org' });
    assert.equal(any.virtualHost, 'allow_any');
    assert.equal(any.cluster, 'PassthroughCluster');
    assert.deepEqual(any.endpoints, ['127.0.1.1:15001']);
  });

  test('a virtual host that requires TLS redirects plaintext to https', () => {
    const rc = config.routes!['15001']!;
    const vhosts = (rc['virtualHosts'] as Plain[]).map((vh) => (vh['name'] === 'wild' ? { ...vh, requireTls: 'ALL' } : vh));
    const strict = { ...config, routes: { '15001': { ...rc, virtualHosts: vhosts } } };
    const r = simulate(strict, { port: 15001, authority: 'x.example.com' });
    assert.equal(isTlsRedirect(r), true);
    assert.equal(r.status, 301);
    assert.equal(isTlsRedirect(simulate(config, { port: 15001, authority: 'x.example.com' })), false);
  });

  test('CONNECT matches only connect routes', () => {
    const r = simulate(config, { port: 15001, authority: 'db.internal:5432', method: 'CONNECT' });
    assert.equal(r.route, 'allow_any_connect');
  });
});

describe('simulate: listeners and filter chains', () => {
  test('inbound: the listener on the workload address and port, inline route config, static endpoints', () => {
    const r = simulate(config, { port: 9080, address: '127.0.1.1', authority: 'reviews:9080' });
    assert.deepEqual([r.listener, r.routeConfig, r.cluster], ['127.0.1.1_9080', 'inbound|9080||', 'inbound|9080||']);
    assert.deepEqual(r.endpoints, ['127.0.0.1:39080']);
  });

  test('SNI: exact server name before the wildcard; plaintext goes to the raw_buffer chain', () => {
    assert.equal(simulate(config, { port: 443, tls: true, sni: 'a.example.com', protocol: 'tcp' }).filterChain, 'exact');
    const w = simulate(config, { port: 443, tls: true, sni: 'b.example.com', protocol: 'tcp' });
    assert.deepEqual([w.filterChain, w.action, w.cluster], ['wildcard', 'tcp_proxy', CLUSTERS.R1]);
    assert.equal(simulate(config, { port: 443, tls: true, sni: 'other.org', protocol: 'tcp' }).error?.code, 'NO_FILTER_CHAIN');
    assert.equal(simulate(config, { port: 443, authority: 'ratings:9080' }).filterChain, 'plain');
  });

  test('TCP proxy with weighted clusters', () => {
    const r = simulate(config, { port: 3306, protocol: 'tcp' });
    assert.deepEqual(r.clusters.map((c) => [c.name, c.weight]), [[CLUSTERS.R1, 3], [CLUSTERS.R2, 1]]);
  });

  test('protocol errors and missing listeners', () => {
    assert.equal(simulate(config, { port: 15001, protocol: 'tcp' }).error?.code, 'PROTOCOL_ERROR');
    assert.equal(simulate({ listeners: {} }, { port: 80 }).error?.code, 'NO_LISTENER');
    const noRds = { ...config, routes: {} };
    assert.equal(simulate(noRds, { port: 15001, authority: 'reviews:9080' }).error?.code, 'NO_ROUTE_CONFIG');
  });

  test('proxyless gRPC: the api_listener named after the target', () => {
    const r = simulate(grpcConfig(), { port: 9080, authority: 'reviews.default.svc.cluster.local:9080', protocol: 'http2', headers: { 'content-type': 'application/grpc' } });
    assert.equal(r.ok, true, r.error?.message);
    assert.deepEqual([r.listener, r.routeConfig, r.cluster], ['reviews.default.svc.cluster.local:9080', 'reviews.default.svc.cluster.local:9080', CLUSTERS.R1]);
    assert.deepEqual(r.endpoints, ['127.0.1.2:9080']);
  });
});

test('the fixture is valid Envoy config, and decoded resources simulate the same', () => {
  const decoded = roundTrip(config);
  const calls = [
    { port: 15001, authority: 'reviews:9080', headers: { 'end-user': 'jason' } },
    { port: 15001, authority: 'reviews:9080' },
    { port: 15001, authority: 'ratings:9080', path: '/tea/1?brew=yes' },
    { port: 443, tls: true, sni: 'b.example.com', protocol: 'tcp' as const },
    { port: 9080, address: '127.0.1.1' },
  ];
  for (const call of calls) assert.deepEqual(simulate(decoded, call), simulate(config, call));
  const g = roundTrip(grpcConfig());
  assert.equal(simulate(g, { port: 9080, authority: 'reviews.default.svc.cluster.local:9080' }).cluster, CLUSTERS.R1);
});
