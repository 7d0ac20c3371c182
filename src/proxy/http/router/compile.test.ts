/**
 * Compilation: every problem reported with its field path in one pass, defaults as Envoy's (15 s route
 * timeout, one retry, 25 ms back-off), what routes inherit (retry and mirror policies, per-filter
 * configs), hash policies, upgrades and the remaining route actions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration } from './compile.ts';
import { requestHash } from './hash-policy.ts';
import { mirrorCluster, routeHash, selectRoute, shouldMirror } from './select.ts';
import { compiled, oneHost, request, type RequestSpec } from './testing.ts';
import type { CompiledRoutes, RouteDecision } from './types.ts';

function routeOf(config: CompiledRoutes, spec: RequestSpec = {}): RouteDecision {
  const d = selectRoute(config, request(spec));
  assert.equal(d.kind, 'route');
  return d as RouteDecision;
}

const forwarding = (action: Record<string, unknown>, vh: Record<string, unknown> = {}) => routeOf(compiled(oneHost([{ match: { prefix: '/' }, route: { cluster: 'c', ...action } }], vh))).forward;

describe('problems', () => {
  it('are all collected in one pass, each with its field path', () => {
    const { problems } = compileRouteConfiguration({
      name: 'bad',
      vhds: { configSource: {} },
      virtualHosts: [
        {
          name: 'vh', domains: ['*'], matcher: {},
          routes: [
            { route: { cluster: 'c' } },
            { match: { prefix: '/' } },
            { match: { safeRegex: { regex: '(' } }, route: { cluster: '' } },
            { match: { pathMatchPolicy: {} }, route: { clusterSpecifierPlugin: 'p' } },
            { match: { prefix: '/' }, route: { cluster: 'c', timeout: { seconds: -1 }, retryPolicy: { retryHostPredicate: [{ name: 'mystery' }], retryBackOff: { baseInterval: { seconds: 1 }, maxInterval: { nanos: 5e8 } } } } },
            { match: { prefix: '/', headers: [{ name: 'x', safeRegexMatch: { regex: '\\p{Nope}' } }] }, redirect: { responseCode: 'NOPE' }, directResponse: { status: 200 } },
          ],
        },
      ],
    });
    const at = 'virtualHosts[0]';
    assert.deepEqual(problems, [
      'vhds: virtual host discovery (VHDS) is not supported',
      `${at}.matcher: the virtual host matcher tree is not supported; use routes`,
      `${at}.routes[0].match: required`,
      `${at}.routes[0].match: one of prefix, path, safeRegex, connectMatcher, pathSeparatedPrefix is required`,
      `${at}.routes[1]: one of route, redirect, directResponse, nonForwardingAction is required`,
      `${at}.routes[2].route.cluster: must not be empty`,
      `${at}.routes[2].match.safeRegex.regex: invalid RE2 regex "(": error parsing regexp: missing closing ): \`(\``,
      `${at}.routes[3].route.clusterSpecifierPlugin: cluster specifier plugins are not supported`,
      `${at}.routes[3].match.pathMatchPolicy: path match policy extensions are not supported`,
      `${at}.routes[4].route.timeout: invalid duration (seconds -1, nanos 0): must be non-negative and in range`,
      `${at}.routes[4].route.retryPolicy.retryBackOff.maxInterval: must be at least base_interval (1000 ms)`,
      `${at}.routes[4].route.retryPolicy.retryHostPredicate[0]: unknown retry host predicate "mystery"`,
      `${at}.routes[5]: only one action may be set (got redirect, directResponse)`,
      `${at}.routes[5].redirect.responseCode: unknown value "NOPE" (expected one of MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT, PERMANENT_REDIRECT)`,
      `${at}.routes[5].match.headers[0].safeRegexMatch.regex: invalid RE2 regex "\\\\p{Nope}": error parsing regexp: invalid character class range: \`\\p{Nope}\``,
    ]);
  });
});

describe('timeouts', () => {
  it('route timeout: 15 s when unset, 0 when zero (disabled), milliseconds otherwise', () => {
    assert.equal(forwarding({}).timeouts.routeMs, 15_000);
    assert.equal(forwarding({ timeout: {} }).timeouts.routeMs, 0);
    assert.equal(forwarding({ timeout: { seconds: 0 } }).timeouts.routeMs, 0);
    assert.equal(forwarding({ timeout: { seconds: 5, nanos: 500_000_000 } }).timeouts.routeMs, 5500);
  });

  it('idle timeout, max stream duration and the gRPC timeouts when set', () => {
    const t = forwarding({ idleTimeout: { seconds: 30 }, maxStreamDuration: { maxStreamDuration: { seconds: 60 }, grpcTimeoutHeaderMax: { seconds: 10 } }, maxGrpcTimeout: {} }).timeouts;
    assert.deepEqual(t, { routeMs: 15_000, idleMs: 30_000, maxStreamDurationMs: 60_000, grpcTimeoutHeaderMaxMs: 10_000, grpcTimeoutHeaderOffsetMs: undefined, maxGrpcTimeoutMs: 0, grpcTimeoutOffsetMs: undefined });
    assert.equal(forwarding({}).timeouts.idleMs, undefined);
  });
});

describe('retry policy', () => {
  const istio = {
    retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', numRetries: { value: 2 },
    retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }],
    hostSelectionRetryMaxAttempts: '5', retriableStatusCodes: [503],
  };

  it('compiles Istio\'s default policy', () => {
    const r = forwarding({ retryPolicy: istio }).retryPolicy!;
    assert.deepEqual([...r.retryOn], ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes']);
    assert.equal(r.numRetries, 2);
    assert.deepEqual(r.hostPredicates, ['envoy.retry_host_predicates.previous_hosts']);
    assert.equal(r.hostSelectionMaxAttempts, 5);
    assert.deepEqual([...r.retriableStatusCodes], [503]);
    assert.deepEqual([r.baseIntervalMs, r.maxIntervalMs, r.perTryTimeoutMs], [25, 250, 0]);
  });

  it('defaults to one retry; the route\'s own policy wins over the virtual host\'s, which routes otherwise inherit', () => {
    assert.equal(forwarding({ retryPolicy: {} }).retryPolicy!.numRetries, 1);
    assert.equal(forwarding({ retryPolicy: { numRetries: {} } }).retryPolicy!.numRetries, 0, 'a decoded UInt32Value of 0');
    assert.equal(forwarding({}).retryPolicy, undefined);
    assert.equal(forwarding({}, { retryPolicy: { numRetries: { value: 7 } } }).retryPolicy!.numRetries, 7);
    assert.equal(forwarding({ retryPolicy: { numRetries: { value: 3 } } }, { retryPolicy: { numRetries: { value: 7 } } }).retryPolicy!.numRetries, 3);
  });

  it('back-off, per-try timeouts, previous priorities and retriable headers', () => {
    const r = forwarding({
      retryPolicy: {
        perTryTimeout: { seconds: 2 }, retryBackOff: { baseInterval: { nanos: 100_000 } },
        retryPriority: { name: 'envoy.retry_priorities.previous_priorities', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig', updateFrequency: 2 } },
        retriableHeaders: [{ name: 'x-retry', presentMatch: true }],
      },
    }).retryPolicy!;
    assert.deepEqual([r.perTryTimeoutMs, r.baseIntervalMs, r.maxIntervalMs, r.previousPrioritiesUpdateFrequency], [2000, 1, 10, 2]);
    assert.equal(r.retriableHeaders[0]?.name, 'x-retry');
  });
});

describe('mirror policies', () => {
  it('the route\'s, else the virtual host\'s, else the route configuration\'s', () => {
    const config = (routeMirror: boolean, vhMirror: boolean) => compiled({
      requestMirrorPolicies: [{ cluster: 'rc-shadow' }],
      virtualHosts: [{
        name: 'vh', domains: ['*'], ...(vhMirror ? { requestMirrorPolicies: [{ cluster: 'vh-shadow' }] } : {}),
        routes: [{ match: { prefix: '/' }, route: { cluster: 'c', ...(routeMirror ? { requestMirrorPolicies: [{ clusterHeader: 'x-shadow', runtimeFraction: { defaultValue: { numerator: 10 } } }] } : {}) } }],
      }],
    });
    const mirrors = (c: CompiledRoutes) => routeOf(c, { headers: { 'x-shadow': 'hdr-shadow' } }).forward.mirrors.map((m) => mirrorCluster(m, request({ headers: { 'x-shadow': 'hdr-shadow' } })));
    assert.deepEqual(mirrors(config(true, true)), ['hdr-shadow']);
    assert.deepEqual(mirrors(config(false, true)), ['vh-shadow']);
    assert.deepEqual(mirrors(config(false, false)), ['rc-shadow']);
  });

  it('samples by the runtime fraction, everything without one', () => {
    const [ten] = forwarding({ requestMirrorPolicies: [{ cluster: 's', runtimeFraction: { defaultValue: { numerator: 10 } } }] }).mirrors;
    const [all] = forwarding({ requestMirrorPolicies: [{ cluster: 's' }] }).mirrors;
    assert.equal(shouldMirror(ten!, 9 / 2 ** 32), true);
    assert.equal(shouldMirror(ten!, 10 / 2 ** 32), false);
    assert.equal(shouldMirror(all!, 0.999), true);
  });
});

describe('typed_per_filter_config', () => {
  const fault = (status: number) => ({ '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { httpStatus: status } });
  const cors = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy' };

  it('the most specific level wins per filter; the levels merge', () => {
    const config = compiled({
      typedPerFilterConfig: { 'envoy.filters.http.fault': fault(500), 'envoy.filters.http.cors': cors },
      virtualHosts: [{
        name: 'vh', domains: ['*'], typedPerFilterConfig: { 'envoy.filters.http.fault': fault(501) },
        routes: [
          { match: { path: '/own' }, route: { cluster: 'c' }, typedPerFilterConfig: { 'envoy.filters.http.fault': fault(502) } },
          { match: { prefix: '/' }, route: { cluster: 'c' } },
        ],
      }],
    });
    const status = (path: string) => (routeOf(config, { path }).target.perFilterConfig.get('envoy.filters.http.fault')?.config?.['abort'] as { httpStatus: number }).httpStatus;
    assert.equal(status('/own'), 502);
    assert.equal(status('/other'), 501);
    assert.equal(routeOf(config, { path: '/own' }).target.perFilterConfig.get('envoy.filters.http.cors')?.config, cors);
  });

  it('understands the FilterConfig wrapper and asks the filter registry hook', () => {
    const wrapper = (config: unknown, extra: Record<string, unknown> = {}) => ({ '@type': 'type.googleapis.com/envoy.config.route.v3.FilterConfig', ...(config ? { config } : {}), ...extra });
    const seen: string[] = [];
    const hook = (name: string, typeUrl: string) => {
      seen.push(`${name} ${typeUrl}`);
      return typeUrl.endsWith('HTTPFault') ? { problems: [], compiled: 'compiled-fault' } : undefined;
    };
    const { config, problems } = compileRouteConfiguration(oneHost([{
      match: { prefix: '/' }, route: { cluster: 'c' },
      typedPerFilterConfig: {
        'envoy.filters.http.fault': wrapper(fault(503)),
        'envoy.filters.http.cors': wrapper(undefined, { disabled: true }),
        'acme.optional': wrapper({ '@type': 'type.googleapis.com/acme.Thing' }, { isOptional: true }),
        'acme.required': { '@type': 'type.googleapis.com/acme.Other' },
      },
    }]), { perFilterConfig: hook });
    assert.deepEqual(problems, ['virtualHosts[0].routes[0].typedPerFilterConfig.acme.required: no HTTP filter accepts per-route config of type type.googleapis.com/acme.Other']);
    const pfc = routeOf(config).target.perFilterConfig;
    assert.equal(pfc.get('envoy.filters.http.fault')?.compiled, 'compiled-fault');
    assert.equal(pfc.get('envoy.filters.http.cors')?.disabled, true);
    assert.equal(pfc.has('acme.optional'), false);
    assert.equal(seen.length, 3);
  });
});

describe('hash policy', () => {
  it('folds the policies that yield, stops at a terminal one that yielded', () => {
    const policies = forwarding({
      hashPolicy: [
        { header: { headerName: 'x-missing' }, terminal: true },
        { header: { headerName: 'x-user' } },
        { cookie: { name: 'session', ttl: { seconds: 60 } }, terminal: true },
        { connectionProperties: { sourceIp: true } },
      ],
    }).hashPolicy;
    const spec = { headers: { 'x-user': 'alice', cookie: 'a=b; session="s1"' }, sourceAddress: '10.0.0.1' };
    const h = requestHash(policies, request(spec));
    const withoutCookie = requestHash(policies, request({ ...spec, headers: { 'x-user': 'alice' } }));
    assert.equal(typeof h, 'number');
    assert.equal(h, requestHash(policies, request(spec)), 'deterministic');
    assert.notEqual(h, withoutCookie, 'the cookie counts');
    assert.equal(withoutCookie, requestHash(policies, request({ headers: { 'x-user': 'alice' }, sourceAddress: '10.0.0.2' })), 'a terminal policy stops the walk once any hash exists, even if it yielded nothing itself');
    assert.notEqual(requestHash(policies, request({ sourceAddress: '10.0.0.1' })), requestHash(policies, request({ sourceAddress: '10.0.0.2' })), 'with nothing before it, the source address counts');
    assert.equal(requestHash(policies, request({})), undefined);
  });

  it('header values can be rewritten by regex before hashing; query parameters hash too', () => {
    const d = routeOf(compiled(oneHost([{ match: { prefix: '/' }, route: { cluster: 'c', hashPolicy: [{ header: { headerName: ':path', regexRewrite: { pattern: { regex: '\\?.*' }, substitution: '' } } }, { queryParameter: { name: 'u' } }] } }])));
    const h = (path: string) => routeHash(d, request({ path, headers: { ':path': path.split('?')[0]! } }));
    assert.equal(h('/a?u=1'), h('/a?u=1&x=2'));
    assert.notEqual(h('/a?u=1'), h('/a?u=2'));
  });
});

describe('actions and settings', () => {
  it('cluster_header takes the first value of the header; absent means no cluster', () => {
    const config = compiled(oneHost([{ match: { prefix: '/' }, route: { clusterHeader: 'X-Cluster', clusterNotFoundResponseCode: 'NOT_FOUND' } }]));
    assert.equal(routeOf(config, { headers: { 'x-cluster': ['a', 'b'] } }).cluster, 'a');
    assert.equal(routeOf(config).cluster, '');
    assert.equal(routeOf(config).forward.clusterNotFoundStatus, 404);
  });

  it('upgrade configs: enabled by default, CONNECT with connect_config; duplicates are problems', () => {
    const u = forwarding({ upgradeConfigs: [{ upgradeType: 'WebSocket' }, { upgradeType: 'CONNECT', connectConfig: { allowPost: true } }, { upgradeType: 'h2c', enabled: { value: false } }] }).upgrades;
    assert.deepEqual([...u.types], [['websocket', true], ['connect', true], ['h2c', false]]);
    assert.deepEqual(u.connect, { allowPost: true });
    const { problems } = compileRouteConfiguration(oneHost([{ match: { prefix: '/' }, route: { cluster: 'c', upgradeConfigs: [{ upgradeType: 'websocket' }, { upgradeType: 'WEBSOCKET', connectConfig: {} }] } }]));
    assert.deepEqual(problems, [
      'virtualHosts[0].routes[0].route.upgradeConfigs[1].upgradeType: duplicate upgrade "websocket"',
      'virtualHosts[0].routes[0].route.upgradeConfigs[1].connectConfig: upgrade type "websocket" is not CONNECT and cannot have a connect_config',
    ]);
  });

  it('non_forwarding_action, virtual host flags and route-configuration settings', () => {
    const config = compiled({
      internalOnlyHeaders: ['X-Internal'],
      virtualHosts: [{ name: 'vh', domains: ['*'], includeRequestAttemptCount: true, perRequestBufferLimitBytes: { value: 1024 }, routes: [{ name: 'nf', match: { prefix: '/' }, nonForwardingAction: {}, decorator: { operation: 'op' } }] }],
    });
    const d = selectRoute(config, request());
    assert.ok(d.kind === 'non_forwarding');
    assert.deepEqual([d.route.name, d.route.decorator, d.route.bufferLimitBytes, d.virtualHost.includeRequestAttemptCount], ['nf', 'op', 1024, true]);
    assert.deepEqual(config.internalOnlyHeaders, ['x-internal']);
    assert.equal(config.maxDirectResponseBodySizeBytes, 4096);
  });

  it('no route in a matching virtual host is NR with that virtual host', () => {
    const d = selectRoute(compiled(oneHost([{ match: { path: '/only' }, route: { cluster: 'c' } }])), request({ path: '/other' }));
    assert.equal(d.kind, 'no_route');
    assert.equal(d.kind === 'no_route' && d.virtualHost.name, 'vh');
  });
});
