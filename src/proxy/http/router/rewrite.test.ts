/**
 * Path and host rewrites of forwarding routes: `prefix_rewrite` (what the path specifier matched is
 * replaced), `regex_rewrite` with RE2 `GlobalReplace` semantics (the examples of Envoy's
 * `RegexMatchAndSubstitute` documentation, `\N` groups, empty matches), host rewrites.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration } from './compile.ts';
import { Problems } from './proto.ts';
import { compileRegexRewrite, replaceAll } from './regex.ts';
import { selectRoute } from './select.ts';
import { compiled, oneHost, request, type RequestSpec } from './testing.ts';

function rewrite(pattern: string, substitution: string, input: string): string {
  const p = new Problems();
  const rw = compileRegexRewrite({ pattern: { regex: pattern }, substitution }, 'r', p);
  assert.deepEqual(p.list, []);
  return replaceAll(rw!, input);
}

function routed(match: Record<string, unknown>, action: Record<string, unknown>, spec: RequestSpec): { path: string | undefined; authority: string | undefined } {
  const d = selectRoute(compiled(oneHost([{ match, route: { cluster: 'c', ...action } }])), request(spec));
  assert.equal(d.kind, 'route');
  return d.kind === 'route' ? { path: d.path, authority: d.authority } : { path: undefined, authority: undefined };
}

describe('RE2 substitution', () => {
  it('Envoy\'s documented examples', () => {
    assert.equal(rewrite('^/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/foo/v1/api'), '/v1/api/instance/foo');
    assert.equal(rewrite('one', 'two', '/xxx/one/yyy/one/zzz'), '/xxx/two/yyy/two/zzz');
    assert.equal(rewrite('^(.*?)one(.*)$', '\\1two\\2', '/xxx/one/yyy/one/zzz'), '/xxx/two/yyy/one/zzz');
    assert.equal(rewrite('(?i)/xxx/', '/yyy/', '/aaa/XxX/bbb'), '/aaa/yyy/bbb');
  });

  it('\\0 is the whole match, \\\\ a backslash, an unmatched group is empty, no match leaves the input', () => {
    assert.equal(rewrite('[0-9]+', '<\\0>', 'a1b22'), 'a<1>b<22>');
    assert.equal(rewrite('b', '\\\\', 'abc'), 'a\\c');
    assert.equal(rewrite('(a)|(b)', '[\\1\\2]', 'ab'), '[a][b]');
    assert.equal(rewrite('z', 'y', 'abc'), 'abc');
  });

  it('skips an empty match right after the previous match, as RE2 (not JavaScript) does', () => {
    assert.equal(rewrite('a*', 'X', 'baaa'), 'XbX');
    assert.equal('baaa'.replace(/a*/g, 'X'), 'XbXX', 'JavaScript differs');
    assert.equal(rewrite('x*', '-', 'ab'), '-a-b-');
    assert.equal(rewrite('x*', '-', '😀'), '-😀-', 'a surrogate pair is one character');
  });

  it('reports groups the pattern does not have and invalid escapes', () => {
    const p = new Problems();
    compileRegexRewrite({ pattern: { regex: '(a)(b)' }, substitution: '\\3' }, 'r', p);
    compileRegexRewrite({ pattern: { regex: 'a' }, substitution: '\\n' }, 's', p);
    compileRegexRewrite({ pattern: { regex: 'a' }, substitution: 'x\\' }, 't', p);
    compileRegexRewrite({ substitution: 'x' }, 'u', p);
    assert.deepEqual(p.list, [
      'r.substitution: substitution "\\\\3" refers to group \\3 but the pattern has 2',
      's.substitution: substitution "\\\\n": invalid escape \\n (use \\\\ for a backslash)',
      't.substitution: substitution "x\\\\": invalid escape at the end (use \\\\ for a backslash)',
      'u.pattern: required',
    ]);
  });
});

describe('path rewrites of forwarding routes', () => {
  it('prefix_rewrite replaces the matched prefix and keeps the rest and the query', () => {
    assert.deepEqual(routed({ prefix: '/v1/' }, { prefixRewrite: '/v2/' }, { path: '/v1/items?x=1' }).path, '/v2/items?x=1');
    assert.deepEqual(routed({ prefix: '/prefix' }, { prefixRewrite: '/' }, { path: '/prefix/x' }).path, '//x', 'Envoy\'s documented double slash');
    assert.deepEqual(routed({ prefix: '/api', caseSensitive: false }, { prefixRewrite: '/v1' }, { path: '/API/x' }).path, '/v1/x');
    assert.deepEqual(routed({ pathSeparatedPrefix: '/api' }, { prefixRewrite: '/v1' }, { path: '/api/x' }).path, '/v1/x');
  });

  it('prefix_rewrite on exact and regex routes replaces the whole path proper', () => {
    assert.deepEqual(routed({ path: '/old' }, { prefixRewrite: '/new' }, { path: '/old?q=1' }).path, '/new?q=1');
    assert.deepEqual(routed({ safeRegex: { regex: '/tea/[0-9]+' } }, { prefixRewrite: '/pot' }, { path: '/tea/7?hot' }).path, '/pot?hot');
  });

  it('regex_rewrite substitutes over the path proper and keeps the query', () => {
    const regexRewrite = { pattern: { regex: '^/service/([^/]+)(/.*)$' }, substitution: '\\2/instance/\\1' };
    assert.deepEqual(routed({ prefix: '/' }, { regexRewrite }, { path: '/service/foo/v1/api?debug=1' }).path, '/v1/api/instance/foo?debug=1');
  });

  it('no rewrite configured: path and authority undefined', () => {
    assert.deepEqual(routed({ prefix: '/' }, {}, { path: '/x' }), { path: undefined, authority: undefined });
  });

  it('only one of prefix_rewrite and regex_rewrite', () => {
    const { problems } = compileRouteConfiguration(oneHost([{ match: { prefix: '/' }, route: { cluster: 'c', prefixRewrite: '/a', regexRewrite: { pattern: { regex: 'a' }, substitution: 'b' } } }]));
    assert.deepEqual(problems, ['virtualHosts[0].routes[0].route: specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy']);
  });
});

describe('host rewrites', () => {
  it('literal, from a header (its first value), from the path by regex; auto_host_rewrite is left to the router', () => {
    assert.equal(routed({ prefix: '/' }, { hostRewriteLiteral: 'backend.internal' }, {}).authority, 'backend.internal');
    assert.equal(routed({ prefix: '/' }, { hostRewriteHeader: 'X-Host' }, { headers: { 'x-host': ['a.example', 'b.example'] } }).authority, 'a.example');
    assert.equal(routed({ prefix: '/' }, { hostRewriteHeader: 'x-host' }, {}).authority, undefined);
    const hostRewritePathRegex = { pattern: { regex: '^/([^/]+)/.*$' }, substitution: '\\1.svc' };
    assert.equal(routed({ prefix: '/' }, { hostRewritePathRegex }, { path: '/orders/list?x' }).authority, 'orders.svc');
    const auto = selectRoute(compiled(oneHost([{ match: { prefix: '/' }, route: { cluster: 'c', autoHostRewrite: { value: true } } }])), request());
    assert.ok(auto.kind === 'route');
    assert.equal(auto.authority, undefined);
    assert.deepEqual(auto.forward.hostRewrite, { kind: 'auto' });
  });
});
