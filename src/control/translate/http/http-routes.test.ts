import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { httpRoutes } from './http-routes.ts';
import { defaultRoute } from './default-route.ts';
import { context, encodeRoutes, missingRetryProtos, virtualService } from './testing.ts';
import type { EnvoyRoute, RouteContext } from './context.ts';

type R = Record<string, any>;

/** Translates the VirtualService and checks that every route encodes with Envoy's protos. */
function routes(yaml: string, over: Partial<RouteContext> = {}): R[] {
  const out = httpRoutes(virtualService(yaml), context(over));
  encodeRoutes(out);
  return out as R[];
}

function vs(http: string, extra = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
${extra}  http:
${http}`;
}

const TO_REVIEWS = `    route:
    - destination: {host: reviews}`;

describe('route matches', () => {
  test('a route without match is one catch-all route named after the HTTP route', () => {
    const [r, ...rest] = routes(vs(`  - name: all\n${TO_REVIEWS}`));
    assert.equal(rest.length, 0);
    assert.equal(r!.name, 'all');
    assert.deepEqual(r!.match, { prefix: '/' });
    assert.equal(r!.route.cluster, 'outbound|9080||reviews.default.svc.cluster.local');
  });

  test('uri exact, prefix and regex become path, prefix and safe_regex; one route per match', () => {
    const out = routes(vs(`  - name: r
    match:
    - {name: a, uri: {exact: /login}}
    - {uri: {prefix: /api}}
    - {uri: {regex: '/v[0-9]+/.*'}, ignoreUriCase: true}
${TO_REVIEWS}`));
    assert.equal(out.length, 3);
    assert.deepEqual(out.map((r) => r.name), ['r.a', 'r', 'r']);
    assert.deepEqual(out[0]!.match, { path: '/login', caseSensitive: { value: true } });
    assert.deepEqual(out[1]!.match, { prefix: '/api', caseSensitive: { value: true } });
    assert.deepEqual(out[2]!.match, { safeRegex: { regex: '/v[0-9]+/.*' }, caseSensitive: { value: false } });
  });

  test('method, authority and scheme are pseudo-header matchers after the sorted headers', () => {
    const [r] = routes(vs(`  - match:
    - method: {exact: GET}
      authority: {prefix: reviews}
      scheme: {exact: http}
      headers:
        x-b: {prefix: foo}
        x-a: {regex: 'ab+'}
${TO_REVIEWS}`));
    assert.deepEqual(r!.match.headers, [
      { name: 'x-a', stringMatch: { safeRegex: { regex: 'ab+' } } },
      { name: 'x-b', stringMatch: { prefix: 'foo' } },
      { name: ':method', stringMatch: { exact: 'GET' } },
      { name: ':authority', stringMatch: { prefix: 'reviews' } },
      { name: ':scheme', stringMatch: { exact: 'http' } },
    ]);
  });

  test('empty header matchers and regex "*" mean presence; an empty exact value is kept', () => {
    const [r] = routes(vs(`  - match:
    - headers:
        x-any: {}
        x-empty: {exact: ''}
      withoutHeaders:
        x-star: {regex: '*'}
${TO_REVIEWS}`));
    assert.deepEqual(r!.match.headers, [
      { name: 'x-any', presentMatch: true },
      { name: 'x-empty', stringMatch: { exact: '' } },
      { name: 'x-star', presentMatch: true, invertMatch: true },
    ]);
  });

  test('withoutHeaders inverts, treating a missing header as empty except for presence', () => {
    const [r] = routes(vs(`  - match:
    - withoutHeaders:
        x-debug: {exact: '1'}
        x-canary: {}
${TO_REVIEWS}`));
    assert.deepEqual(r!.match.headers, [
      { name: 'x-canary', presentMatch: true, invertMatch: true },
      { name: 'x-debug', stringMatch: { exact: '1' }, invertMatch: true, treatMissingHeaderAsEmpty: true },
    ]);
  });

  test('query parameters, sorted by name', () => {
    const [r] = routes(vs(`  - match:
    - queryParams:
        version: {exact: v2}
        debug: {}
${TO_REVIEWS}`));
    assert.deepEqual(r!.match.queryParameters, [
      { name: 'debug', presentMatch: true },
      { name: 'version', stringMatch: { exact: 'v2' } },
    ]);
  });

  test('JWT claim headers become dynamic metadata matchers on the JWT payload', () => {
    const [r] = routes(vs(`  - match:
    - headers:
        '@request.auth.claims.groups': {exact: admin}
      withoutHeaders:
        '@request.auth.claims[sub]': {prefix: bot}
${TO_REVIEWS}`, '  gateways: [ingress]\n'), { gateway: 'default/ingress' });
    assert.equal(r!.match.headers, undefined);
    assert.deepEqual(r!.match.dynamicMetadata[0], {
      filter: 'envoy.filters.http.jwt_authn',
      path: [{ key: 'payload' }, { key: 'groups' }],
      value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: { stringMatch: { exact: 'admin' } } } }, { stringMatch: { exact: 'admin' } }] } },
    });
    assert.equal(r!.match.dynamicMetadata[1].invert, true);
    assert.deepEqual(r!.match.dynamicMetadata[1].path, [{ key: 'payload' }, { key: 'sub' }]);
  });

  test('a match on another port is dropped; a route whose every match is dropped produces nothing', () => {
    const yaml = vs(`  - name: only-8080
    match: [{port: 8080}]
${TO_REVIEWS}
  - name: rest
${TO_REVIEWS}`);
    assert.deepEqual(routes(yaml).map((r) => r.name), ['rest']);
    assert.deepEqual(routes(yaml, { listenerPort: 8080 }).map((r) => r.name), ['only-8080']);
  });

  test('sourceLabels and sourceNamespace keep a match only for proxies that fit', () => {
    const yaml = vs(`  - name: from-v1
    match: [{sourceLabels: {version: v1}, sourceNamespace: default, uri: {prefix: /a}}]
${TO_REVIEWS}
  - name: from-v2
    match: [{sourceLabels: {version: v2}, uri: {prefix: /b}}]
${TO_REVIEWS}
  - name: from-other-ns
    match: [{sourceNamespace: other}]
${TO_REVIEWS}`);
    assert.deepEqual(routes(yaml).map((r) => r.name), ['from-v1']);
    const other = { proxy: { namespace: 'other', labels: { version: 'v2' }, kind: 'sidecar' as const } };
    assert.deepEqual(routes(yaml, other).map((r) => r.name), ['from-v2', 'from-other-ns']);
  });

  test('match gateways override the VirtualService gateways, resolved in its namespace', () => {
    const yaml = vs(`  - name: gw-only
    match: [{gateways: [ingress], uri: {prefix: /gw}}]
${TO_REVIEWS}
  - name: mesh-only
    match: [{gateways: [mesh], uri: {prefix: /mesh}}]
${TO_REVIEWS}`, '  gateways: [mesh, istio-system/ingress, ingress]\n');
    assert.deepEqual(routes(yaml).map((r) => r.name), ['mesh-only']);
    assert.deepEqual(routes(yaml, { gateway: 'default/ingress' }).map((r) => r.name), ['gw-only']);
    assert.deepEqual(routes(yaml, { gateway: 'istio-system/ingress' }).map((r) => r.name), []);
  });

  test('a VirtualService bound only to gateways has no routes for the mesh', () => {
    const yaml = vs(TO_REVIEWS.replace('    route', '  - route'), '  gateways: [bookinfo-gateway]\n');
    assert.equal(routes(yaml).length, 0);
    assert.equal(routes(yaml, { gateway: 'default/bookinfo-gateway' }).length, 1);
  });

  test('nothing is emitted after a catch-all route', () => {
    const out = routes(vs(`  - name: a
    match: [{uri: {prefix: /a}}, {uri: {prefix: /}}, {uri: {prefix: /never}}]
${TO_REVIEWS}
  - name: b
${TO_REVIEWS}`));
    assert.deepEqual(out.map((r) => r.match.prefix), ['/a', '/']);
  });

  test('statPrefix and the config metadata naming the VirtualService', () => {
    const [r] = routes(vs(`  - match: [{uri: {prefix: /}, statPrefix: reviews-all}]\n${TO_REVIEWS}`));
    assert.equal(r!.statPrefix, 'reviews-all');
    assert.equal(r!.metadata.filterMetadata.istio.fields.config.stringValue, '/apis/networking.istio.io/v1/namespaces/default/virtual-service/reviews');
  });
});

describe('route actions', () => {
  test('weighted destinations: subsets, zero weights dropped, per-destination headers and authority', () => {
    const [r] = routes(vs(`  - route:
    - destination: {host: reviews, subset: v1}
      weight: 80
      headers:
        request: {set: {x-subset: v1, ':authority': reviews-v1}}
        response: {remove: [x-internal]}
    - destination: {host: reviews, subset: v2}
      weight: 20
    - destination: {host: reviews, subset: v3}
      weight: 0`));
    assert.deepEqual(r!.route.weightedClusters.clusters, [
      {
        name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: { value: 80 },
        requestHeadersToAdd: [{ header: { key: 'x-subset', value: 'v1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
        responseHeadersToRemove: ['x-internal'], hostRewriteLiteral: 'reviews-v1',
      },
      { name: 'outbound|9080|v2|reviews.default.svc.cluster.local', weight: { value: 20 } },
    ]);
    assert.equal(r!.decorator.operation, 'reviews:9080/*');
  });

  test('destination port and multi-port services', () => {
    const [r] = routes(vs(`  - route:\n    - destination: {host: multi, port: {number: 9090}}`));
    assert.equal(r!.route.cluster, 'outbound|9090||multi.default.svc.cluster.local');
    const [d] = routes(vs(`  - route:\n    - destination: {host: multi}`), { listenerPort: 8080 });
    assert.equal(d!.route.cluster, 'outbound|8080||multi.default.svc.cluster.local');
    assert.equal(d!.decorator.operation, 'multi.default.svc.cluster.local:8080/*');
  });

  test('an unknown host answers 503 naming the host, with x-weft-error', () => {
    const [r] = routes(vs(`  - headers: {response: {set: {x-team: a}}}\n    route:\n    - destination: {host: nowhere}`));
    assert.equal(r!.route, undefined);
    assert.equal(r!.directResponse.status, 503);
    assert.match(r!.directResponse.body.inlineString, /no service for destination host "nowhere" of VirtualService default\/reviews/);
    assert.deepEqual(r!.responseHeadersToAdd.map((h: R) => h.header.key), ['x-team', 'x-weft-error']);
    assert.match(r!.responseHeadersToAdd[1].header.value, /"nowhere"/);
  });

  test('an unknown host among weighted destinations sends only its share to the black hole', () => {
    const [r] = routes(vs(`  - route:
    - destination: {host: reviews}
      weight: 90
    - destination: {host: nowhere}
      weight: 10`));
    const [ok, bad] = r!.route.weightedClusters.clusters;
    assert.equal(ok.name, 'outbound|9080||reviews.default.svc.cluster.local');
    assert.equal(bad.name, 'BlackHoleCluster');
    assert.equal(bad.weight.value, 10);
    assert.equal(bad.responseHeadersToAdd[0].header.key, 'x-weft-error');
  });

  test('for proxyless gRPC an unknown host, a redirect or a direct response route to the black hole', () => {
    const grpc = { proxy: { namespace: 'default', labels: {}, kind: 'grpc' as const } };
    const out = routes(vs(`  - match: [{uri: {prefix: /a}}]
    route:
    - destination: {host: nowhere}
  - match: [{uri: {prefix: /b}}]
    redirect: {uri: /c}
  - directResponse: {status: 404}`), grpc);
    assert.deepEqual(out.map((r) => r.route.cluster), ['BlackHoleCluster', 'BlackHoleCluster', 'BlackHoleCluster']);
    assert.ok(out.every((r) => r.redirect === undefined && r.directResponse === undefined));
  });

  test('rewrite: uri as prefix_rewrite, uriRegexRewrite as regex_rewrite, authority as host rewrite', () => {
    const [a, b] = routes(vs(`  - match: [{uri: {exact: /old}}]
    rewrite: {uri: /new, authority: reviews.internal}
${TO_REVIEWS}
  - rewrite:
      uriRegexRewrite: {match: '^/v1/(.*)$', rewrite: '/\\1'}
${TO_REVIEWS}`));
    assert.equal(a!.route.prefixRewrite, '/new');
    assert.equal(a!.route.hostRewriteLiteral, 'reviews.internal');
    assert.deepEqual(b!.route.regexRewrite, { pattern: { regex: '^/v1/(.*)$' }, substitution: '/\\1' });
  });

  test('the authority from request headers is a host rewrite, not a header; rewrite.authority wins', () => {
    const [a] = routes(vs(`  - headers: {request: {set: {host: from-header, x-a: '1'}, add: {x-b: '2'}, remove: [x-c]}}\n${TO_REVIEWS}`));
    assert.equal(a!.route.hostRewriteLiteral, 'from-header');
    assert.deepEqual(a!.requestHeadersToAdd, [
      { header: { key: 'x-a', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      { header: { key: 'x-b', value: '2' }, appendAction: 'APPEND_IF_EXISTS_OR_ADD' },
    ]);
    assert.deepEqual(a!.requestHeadersToRemove, ['x-c']);
  });

  test('single-destination headers join the route headers; their authority yields to the route rewrite', () => {
    const [r] = routes(vs(`  - headers: {response: {add: {x-route: r}}}
    rewrite: {authority: top}
    route:
    - destination: {host: reviews}
      headers: {request: {set: {':authority': dest}}, response: {add: {x-dest: d}}}`));
    assert.deepEqual(r!.responseHeadersToAdd.map((h: R) => h.header.key), ['x-route', 'x-dest']);
    assert.equal(r!.route.hostRewriteLiteral, 'top');
  });

  test('redirect: uri, authority, scheme, port, code', () => {
    const [r] = routes(vs(`  - redirect: {uri: /v2, authority: new.example.com, scheme: https, port: 8443, redirectCode: 308}`));
    assert.deepEqual(r!.redirect, {
      responseCode: 'PERMANENT_REDIRECT', hostRedirect: 'new.example.com', pathRedirect: '/v2', schemeRedirect: 'https', portRedirect: 8443,
    });
    assert.equal(r!.route, undefined);
  });

  test('redirect: derivePort FROM_REQUEST_PORT is the listener port, a default port is left out', () => {
    const [a] = routes(vs(`  - redirect: {authority: x, derivePort: FROM_REQUEST_PORT}`), { listenerPort: 8080 });
    assert.equal(a!.redirect.portRedirect, 8080);
    assert.equal(a!.redirect.responseCode, 'MOVED_PERMANENTLY');
    const [b] = routes(vs(`  - redirect: {authority: x, derivePort: FROM_REQUEST_PORT}`), { listenerPort: 80 });
    assert.equal(b!.redirect.portRedirect, undefined);
    const [c] = routes(vs(`  - redirect: {authority: x, port: 443}`), { listenerPort: 443, tls: true });
    assert.equal(c!.redirect.portRedirect, undefined);
    const [d] = routes(vs(`  - redirect: {prefixRewrite: /new, redirectCode: 302}`));
    assert.deepEqual(d!.redirect, { responseCode: 'FOUND', prefixRewrite: '/new' });
  });

  test('a redirect code Envoy cannot send drops the route', () => {
    const out = routes(vs(`  - match: [{uri: {prefix: /a}}]\n    redirect: {uri: /b, redirectCode: 305}\n  - name: rest\n${TO_REVIEWS}`));
    assert.deepEqual(out.map((r) => r.name), ['rest']);
  });

  test('directResponse with a string or bytes body', () => {
    const out = routes(vs(`  - match: [{uri: {exact: /a}}]
    directResponse: {status: 418, body: {string: teapot}}
  - directResponse: {status: 200, body: {bytes: aGVsbG8=}}`));
    assert.deepEqual(out[0]!.directResponse, { status: 418, body: { inlineString: 'teapot' } });
    assert.deepEqual(out[1]!.directResponse, { status: 200, body: { inlineBytes: 'aGVsbG8=' } });
    assert.equal(out[0]!.decorator.operation, 'reviews:9080/a');
  });

  test('timeout: none disables Envoy\'s 15 s default; a set timeout also bounds gRPC', () => {
    const [a] = routes(vs(`  - ${TO_REVIEWS.trimStart()}`));
    assert.deepEqual(a!.route.timeout, { seconds: 0 });
    assert.deepEqual(a!.route.maxGrpcTimeout, { seconds: 0 });
    const [b] = routes(vs(`  - timeout: 1.5s\n${TO_REVIEWS}`));
    assert.deepEqual(b!.route.timeout, { seconds: 1, nanos: 500_000_000 });
    assert.deepEqual(b!.route.maxGrpcTimeout, { seconds: 1, nanos: 500_000_000 });
  });

  test('timeout for proxyless gRPC goes to max_stream_duration', () => {
    const [r] = routes(vs(`  - timeout: 2s\n${TO_REVIEWS}`), { proxy: { namespace: 'default', labels: {}, kind: 'grpc' } });
    assert.deepEqual(r!.route.maxStreamDuration, { maxStreamDuration: { seconds: 2 } });
    assert.equal(r!.route.maxGrpcTimeout, undefined);
  });

  test('retries: Istio\'s default when unset, none with attempts 0, overrides otherwise', () => {
    const [d] = routes(vs(`  - ${TO_REVIEWS.trimStart()}`));
    assert.equal(d!.route.retryPolicy.retryOn, 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes');
    assert.deepEqual(d!.route.retryPolicy.numRetries, { value: 2 });
    assert.equal(d!.route.retryPolicy.retryHostPredicate[0].name, 'envoy.retry_host_predicates.previous_hosts');
    const [off] = routes(vs(`  - retries: {attempts: 0}\n${TO_REVIEWS}`));
    assert.equal(off!.route.retryPolicy, undefined);
    const [on] = routes(vs(`  - retries: {attempts: 3, perTryTimeout: 2s, retryOn: 'gateway-error,503,unavailable', retryRemoteLocalities: true, backoff: 25ms}\n${TO_REVIEWS}`));
    const p = on!.route.retryPolicy;
    assert.deepEqual(p.numRetries, { value: 3 });
    assert.equal(p.retryOn, 'gateway-error,unavailable,retriable-status-codes');
    assert.deepEqual(p.retriableStatusCodes, [503]);
    assert.deepEqual(p.perTryTimeout, { seconds: 2 });
    assert.equal(p.hostSelectionRetryMaxAttempts, 5);
    assert.equal(p.retryPriority.name, 'envoy.retry_priorities.previous_priorities');
    assert.equal(p.retryPriority.typedConfig.updateFrequency, 2);
    assert.deepEqual(p.retryBackOff, { baseInterval: { seconds: 0, nanos: 25_000_000 } });
  });

  test('mirror, mirrors and mirror percentages', () => {
    const [r] = routes(vs(`  - route:
    - destination: {host: reviews, subset: v1}
    mirror: {host: reviews, subset: v2}
    mirrorPercentage: {value: 12.5}`));
    assert.deepEqual(r!.route.requestMirrorPolicies, [{
      cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local',
      runtimeFraction: { defaultValue: { numerator: 125_000, denominator: 'MILLION' } },
      traceSampled: { value: false },
    }]);
    const [m] = routes(vs(`  - route:
    - destination: {host: reviews}
    mirrors:
    - destination: {host: ratings}
    - destination: {host: details}
      percentage: {value: 0}
    - destination: {host: nowhere}`));
    assert.deepEqual(m!.route.requestMirrorPolicies.map((p: R) => [p.cluster, p.runtimeFraction.defaultValue]), [
      ['outbound|9080||ratings.default.svc.cluster.local', { numerator: 100, denominator: 'HUNDRED' }],
    ]);
  });

  test('fault: fixed delay and HTTP abort as the fault filter\'s per-route config', () => {
    const [r] = routes(vs(`  - fault:
      delay: {fixedDelay: 7s, percentage: {value: 100}}
      abort: {httpStatus: 500, percentage: {value: 0.5}}
${TO_REVIEWS}`));
    assert.deepEqual(r!.typedPerFilterConfig['envoy.filters.http.fault'], {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
      delay: { fixedDelay: { seconds: 7 }, percentage: { numerator: 1_000_000, denominator: 'MILLION' } },
      abort: { httpStatus: 500, percentage: { numerator: 5000, denominator: 'MILLION' } },
    });
  });

  test('fault: gRPC abort status by name, deprecated integer delay percent', () => {
    const [r] = routes(vs(`  - fault:
      delay: {fixedDelay: 100ms, percent: 30}
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 25}}
${TO_REVIEWS}`));
    const f = r!.typedPerFilterConfig['envoy.filters.http.fault'];
    assert.equal(f.abort.grpcStatus, 14);
    assert.deepEqual(f.delay.percentage, { numerator: 30, denominator: 'HUNDRED' });
    assert.deepEqual(f.delay.fixedDelay, { seconds: 0, nanos: 100_000_000 });
  });

  test('corsPolicy as the CORS filter\'s per-route config', () => {
    const [r] = routes(vs(`  - corsPolicy:
      allowOrigins: [{exact: 'https://a.example'}, {regex: 'https://.*\\.b\\.example'}]
      allowMethods: [GET, POST]
      allowHeaders: [x-a, x-b]
      exposeHeaders: [x-c]
      maxAge: 24h
      allowCredentials: false
      unmatchedPreflights: IGNORE
${TO_REVIEWS}`));
    assert.deepEqual(r!.typedPerFilterConfig['envoy.filters.http.cors'], {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
      filterEnabled: { defaultValue: { numerator: 100, denominator: 'HUNDRED' } },
      forwardNotMatchingPreflights: { value: false },
      allowOriginStringMatch: [{ exact: 'https://a.example' }, { safeRegex: { regex: 'https://.*\\.b\\.example' } }],
      allowMethods: 'GET,POST', allowHeaders: 'x-a,x-b', exposeHeaders: 'x-c', maxAge: '86400',
      allowCredentials: { value: false },
    });
  });
});

test('proxyless gRPC gets the fault config but no CORS config (it would reject the unknown filter)', () => {
  const yaml = vs(`  - fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 50}}}
    corsPolicy: {allowOrigins: [{exact: 'https://a'}]}
${TO_REVIEWS}`);
  const [g] = routes(yaml, { proxy: { namespace: 'default', labels: {}, kind: 'grpc' } });
  assert.deepEqual(Object.keys(g!.typedPerFilterConfig), ['envoy.filters.http.fault']);
  const [s] = routes(yaml);
  assert.deepEqual(Object.keys(s!.typedPerFilterConfig), ['envoy.filters.http.fault', 'envoy.filters.http.cors']);
});

describe('defaultRoute', () => {
  test('every path to the cluster with Istio\'s default retries and no timeout', () => {
    const r = defaultRoute('outbound|9080||reviews.default.svc.cluster.local', context()) as R;
    encodeRoutes([r as EnvoyRoute]);
    assert.equal(r.name, 'default');
    assert.deepEqual(r.match, { prefix: '/' });
    assert.equal(r.route.cluster, 'outbound|9080||reviews.default.svc.cluster.local');
    assert.deepEqual(r.route.timeout, { seconds: 0 });
    assert.deepEqual(r.route.retryPolicy.numRetries, { value: 2 });
    assert.equal(r.decorator.operation, 'reviews.default.svc.cluster.local:9080/*');
  });

  test('for proxyless gRPC the disabled timeout is a max_stream_duration', () => {
    const r = defaultRoute('outbound|50051||grpc-echo.default.svc.cluster.local', context({ proxy: { namespace: 'default', labels: {}, kind: 'grpc' } })) as R;
    assert.deepEqual(r.route.maxStreamDuration, { maxStreamDuration: { seconds: 0 } });
  });
});

test('src/xds/protos.ts lists the retry extension protos that routes reference', () => {
  assert.deepEqual(missingRetryProtos(), [], 'add them to PROTO_FILES, or every route fails to encode');
});
