/**
 * Route matching through `selectRoute`: every path specifier (with case sensitivity and query strings),
 * CONNECT, headers with pseudo-headers, query parameters, gRPC, runtime fractions with the supplied
 * random source, TLS context, dynamic metadata, path parameters — and first-match order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectRoute } from './select.ts';
import { compiled, oneHost, request, type RequestSpec } from './testing.ts';

/** The name of the route `spec` lands on under `routes` (each route forwards to a cluster of its name), or 'NR'. */
function landsOn(routes: Record<string, unknown>[], spec: RequestSpec, extra: Record<string, unknown> = {}): string {
  const config = compiled({ ...oneHost(routes.map((r, i) => ({ name: `r${i}`, route: { cluster: `r${i}` }, ...r }))), ...extra });
  const d = selectRoute(config, request(spec));
  return d.kind === 'route' ? d.route.name : d.kind === 'no_route' ? 'NR' : d.kind;
}

const one = (match: Record<string, unknown>, spec: RequestSpec, extra?: Record<string, unknown>) => landsOn([{ match }], spec, extra) === 'r0';

describe('path specifiers', () => {
  it('prefix: matched against the path without its query; case-sensitive by default', () => {
    assert.equal(one({ prefix: '/api' }, { path: '/api/v1' }), true);
    assert.equal(one({ prefix: '/api' }, { path: '/apiary' }), true);
    assert.equal(one({ prefix: '/api' }, { path: '/API/v1' }), false);
    assert.equal(one({ prefix: '/api', caseSensitive: { value: false } }, { path: '/API/v1' }), true);
    assert.equal(one({ prefix: '/a?' }, { path: '/a?b' }), false, 'a prefix with ? never matches the path proper');
    assert.equal(one({ prefix: '' }, { path: '/anything' }), true);
  });

  it('path: exact path, the query and fragment ignored', () => {
    assert.equal(one({ path: '/exact' }, { path: '/exact' }), true);
    assert.equal(one({ path: '/exact' }, { path: '/exact?x=1' }), true);
    assert.equal(one({ path: '/exact' }, { path: '/exact#frag' }), true);
    assert.equal(one({ path: '/exact' }, { path: '/exact/' }), false);
    assert.equal(one({ path: '/exact' }, { path: '/EXACT' }), false);
    assert.equal(one({ path: '/exact', caseSensitive: false }, { path: '/EXACT' }), true);
  });

  it('safe_regex: RE2 over the whole path proper', () => {
    const m = { safeRegex: { regex: '/tea/[0-9]+' } };
    assert.equal(one(m, { path: '/tea/42' }), true);
    assert.equal(one(m, { path: '/tea/42?brew=1' }), true);
    assert.equal(one(m, { path: '/tea/42/cup' }), false);
    assert.equal(one(m, { path: '/x/tea/42' }), false);
  });

  it('path_separated_prefix: whole segments only', () => {
    const m = { pathSeparatedPrefix: '/api' };
    assert.equal(one(m, { path: '/api' }), true);
    assert.equal(one(m, { path: '/api/v1' }), true);
    assert.equal(one(m, { path: '/api?x' }), true);
    assert.equal(one(m, { path: '/apiary' }), false);
    assert.equal(one({ ...m, caseSensitive: { value: false } }, { path: '/API/v1' }), true);
  });

  it('connect_matcher takes CONNECT requests only, and a CONNECT without a path takes nothing else', () => {
    const routes = [{ match: { prefix: '/' } }, { match: { connectMatcher: {} } }];
    assert.equal(landsOn(routes, { method: 'CONNECT', path: undefined, authority: 'db:5432' }), 'r1');
    assert.equal(landsOn(routes, { method: 'GET', path: '/' }), 'r0');
    assert.equal(landsOn([{ match: { connectMatcher: {} } }], { method: 'GET', path: '/' }), 'NR');
    assert.equal(landsOn([{ match: { prefix: '/' } }], { method: 'CONNECT', path: undefined }), 'NR');
  });

  it('ignore_path_parameters_in_path_matching cuts the path at its first ";"', () => {
    const m = { path: '/users' };
    assert.equal(one(m, { path: '/users;jsessionid=1' }), false);
    assert.equal(one(m, { path: '/users;jsessionid=1' }, { ignorePathParametersInPathMatching: true }), true);
  });

  it('the first matching route wins', () => {
    const routes = [{ match: { prefix: '/a/b' } }, { match: { prefix: '/a' } }, { match: { prefix: '/' } }];
    assert.equal(landsOn(routes, { path: '/a/b/c' }), 'r0');
    assert.equal(landsOn(routes, { path: '/a/x' }), 'r1');
    assert.equal(landsOn(routes, { path: '/z' }), 'r2');
    assert.equal(landsOn(routes.slice(0, 2), { path: '/z' }), 'NR');
  });
});

describe('conditions besides the path', () => {
  it('headers: all must match, names case-insensitive, several values joined with ","', () => {
    const m = { prefix: '/', headers: [{ name: 'End-User', stringMatch: { exact: 'jason' } }, { name: 'x-v', presentMatch: true }] };
    assert.equal(one(m, { headers: { 'end-user': 'jason', 'X-V': '' } }), true);
    assert.equal(one(m, { headers: { 'end-user': 'jason' } }), false);
    assert.equal(one({ prefix: '/', headers: [{ name: 'x-list', stringMatch: { exact: 'a,b' } }] }, { headers: { 'x-list': ['a', 'b'] } }), true);
  });

  it('pseudo-headers :method, :authority, :scheme and :path', () => {
    const on = (name: string, exact: string, spec: RequestSpec) => one({ prefix: '/', headers: [{ name, stringMatch: { exact } }] }, spec);
    assert.equal(on(':method', 'POST', { method: 'POST' }), true);
    assert.equal(on(':method', 'POST', { method: 'GET' }), false);
    assert.equal(on(':authority', 'example.com:8080', { authority: 'example.com:8080' }), true);
    assert.equal(on(':scheme', 'https', { scheme: 'https' }), true);
    assert.equal(on(':scheme', 'https', { scheme: 'http' }), false);
    assert.equal(on(':path', '/a?b=1', { path: '/a?b=1' }), true, ':path includes the query');
  });

  it('query_parameters: string_match and present_match', () => {
    const m = { prefix: '/', queryParameters: [{ name: 'v', stringMatch: { prefix: '2' } }, { name: 'debug', presentMatch: true }] };
    assert.equal(one(m, { path: '/?v=2.1&debug' }), true);
    assert.equal(one(m, { path: '/?v=1&debug' }), false);
    assert.equal(one(m, { path: '/?v=2' }), false);
  });

  it('grpc: the application/grpc content type and its +/; variants', () => {
    const m = { prefix: '/', grpc: {} };
    for (const ct of ['application/grpc', 'application/grpc+proto', 'application/grpc;charset=utf-8']) assert.equal(one(m, { headers: { 'content-type': ct } }), true, ct);
    for (const ct of ['application/grpcx', 'application/json']) assert.equal(one(m, { headers: { 'content-type': ct } }), false, ct);
    assert.equal(one(m, {}), false);
  });

  it('runtime_fraction: the request random value against the default fraction', () => {
    const m = { prefix: '/', runtimeFraction: { defaultValue: { numerator: 25, denominator: 'HUNDRED' }, runtimeKey: 'k' } };
    // random() * 2^32 % 100 < 25
    assert.equal(one(m, { random: 0 }), true);
    assert.equal(one(m, { random: 24 / 2 ** 32 }), true);
    assert.equal(one(m, { random: 25 / 2 ** 32 }), false);
    assert.equal(one({ prefix: '/', runtimeFraction: { defaultValue: { numerator: 0 } } }, { random: 0 }), false);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (one(m, { random: Math.random() })) hits++;
    assert.ok(hits > 2200 && hits < 2800, `${hits} of 10000`);
  });

  it('tls_context: presented and validated peer certificates', () => {
    const m = { prefix: '/', tlsContext: { presented: { value: true }, validated: { value: true } } };
    assert.equal(one(m, { tls: { presented: true, validated: true } }), true);
    assert.equal(one(m, { tls: { presented: true, validated: false } }), false);
    assert.equal(one(m, {}), false);
    assert.equal(one({ prefix: '/', tlsContext: { presented: {} } }, {}), true, 'presented: false matches plaintext');
  });

  it('dynamic_metadata: filters\' metadata must match', () => {
    const m = { prefix: '/', dynamicMetadata: [{ filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'iss' }], value: { stringMatch: { exact: 'me' } } }] };
    assert.equal(one(m, { metadata: { 'envoy.filters.http.jwt_authn': { payload: { iss: 'me' } } } }), true);
    assert.equal(one(m, { metadata: { 'envoy.filters.http.jwt_authn': { payload: { iss: 'you' } } } }), false);
    assert.equal(one(m, {}), false);
  });
});
