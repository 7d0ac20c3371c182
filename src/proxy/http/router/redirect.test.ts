/**
 * Redirect `Location` computation (Envoy's `Http::Utility::newUri` and `processRequestHost`), the
 * `require_tls` redirect, and direct responses with their body limit.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration } from './compile.ts';
import { selectRoute } from './select.ts';
import { compiled, oneHost, request, type RequestSpec } from './testing.ts';

function redirect(action: Record<string, unknown>, spec: RequestSpec, match: Record<string, unknown> = { prefix: '/' }): { status: number; location: string } {
  const d = selectRoute(compiled(oneHost([{ match, redirect: action }])), request(spec));
  assert.equal(d.kind, 'redirect');
  return d.kind === 'redirect' ? { status: d.status, location: d.location } : { status: 0, location: '' };
}

const loc = (action: Record<string, unknown>, spec: RequestSpec, match?: Record<string, unknown>) => redirect(action, spec, match).location;

describe('redirect Location', () => {
  it('status codes by response_code, 301 by default', () => {
    assert.equal(redirect({ pathRedirect: '/x' }, {}).status, 301);
    const codes: [string, number][] = [['FOUND', 302], ['SEE_OTHER', 303], ['TEMPORARY_REDIRECT', 307], ['PERMANENT_REDIRECT', 308], ['MOVED_PERMANENTLY', 301]];
    for (const [name, status] of codes) assert.equal(redirect({ pathRedirect: '/x', responseCode: name }, {}).status, status, name);
    assert.equal(redirect({ pathRedirect: '/x', responseCode: 1 }, {}).status, 302, 'enum numbers too');
  });

  it('keeps scheme, authority and path of the request by default', () => {
    assert.equal(loc({ hostRedirect: 'new.example.com' }, { authority: 'old.example.com:8080', path: '/a?b=1' }), 'http://new.example.com/a?b=1');
    assert.equal(loc({ pathRedirect: '/new' }, { authority: 'example.com:8080', path: '/old' }), 'http://example.com:8080/new');
    assert.equal(loc({ pathRedirect: '/new' }, { scheme: 'https', authority: 'example.com', path: '/old' }), 'https://example.com/new');
  });

  it('path_redirect keeps the request query unless it brings its own; strip_query drops it', () => {
    assert.equal(loc({ pathRedirect: '/new' }, { path: '/old?a=1' }), 'http://example.com/new?a=1');
    assert.equal(loc({ pathRedirect: '/new?b=2' }, { path: '/old?a=1' }), 'http://example.com/new?b=2');
    assert.equal(loc({ pathRedirect: '/new', stripQuery: true }, { path: '/old?a=1' }), 'http://example.com/new');
    assert.equal(loc({ pathRedirect: '/new?b=2', stripQuery: true }, { path: '/old?a=1' }), 'http://example.com/new?b=2', 'its own query is never stripped');
    assert.equal(loc({ stripQuery: true }, { path: '/same?a=1' }), 'http://example.com/same');
    assert.equal(loc({ pathRedirect: 'relative' }, { path: '/old' }), 'http://example.com/relative', 'made absolute');
  });

  it('https_redirect and scheme_redirect; a default port of the old scheme is dropped', () => {
    assert.equal(loc({ httpsRedirect: true }, { authority: 'example.com', path: '/p' }), 'https://example.com/p');
    assert.equal(loc({ httpsRedirect: true }, { authority: 'example.com:80', path: '/p' }), 'https://example.com/p');
    assert.equal(loc({ httpsRedirect: true }, { authority: 'example.com:8080', path: '/p' }), 'https://example.com:8080/p');
    assert.equal(loc({ schemeRedirect: 'http' }, { scheme: 'https', authority: 'example.com:443', path: '/p' }), 'http://example.com/p');
    assert.equal(loc({ schemeRedirect: 'https' }, { scheme: 'https', authority: 'example.com:443', path: '/p' }), 'https://example.com:443/p', 'same scheme keeps the port');
    assert.equal(loc({ httpsRedirect: true }, { authority: '[::1]:80', path: '/p' }), 'https://[::1]/p');
  });

  it('port_redirect replaces the request port', () => {
    assert.equal(loc({ portRedirect: 8443, httpsRedirect: true }, { authority: 'example.com:8080', path: '/p' }), 'https://example.com:8443/p');
    assert.equal(loc({ portRedirect: 81 }, { authority: 'example.com', path: '/p' }), 'http://example.com:81/p');
    assert.equal(loc({ portRedirect: 81, hostRedirect: 'other' }, { authority: 'example.com:80', path: '/p' }), 'http://other:81/p');
  });

  it('prefix_rewrite swaps the matched prefix; regex_rewrite substitutes over the path proper', () => {
    assert.equal(loc({ prefixRewrite: '/v2/' }, { path: '/v1/items?x=1' }, { prefix: '/v1/' }), 'http://example.com/v2/items?x=1');
    assert.equal(loc({ prefixRewrite: '/new' }, { path: '/OLD/x' }, { prefix: '/old', caseSensitive: false }), 'http://example.com/new/x');
    const regexRewrite = { pattern: { regex: '^/users/([0-9]+)$' }, substitution: '/people/\\1' };
    assert.equal(loc({ regexRewrite }, { path: '/users/42?full=1' }), 'http://example.com/people/42?full=1');
  });
});

describe('require_tls', () => {
  const config = (requireTls: string) => compiled({ virtualHosts: [{ name: 'vh', domains: ['*'], requireTls, routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] }] });

  it('ALL answers every plain request with a 301 to https, before any route', () => {
    const d = selectRoute(config('ALL'), request({ authority: 'example.com:8080', path: '/p?q' }));
    assert.deepEqual(d.kind === 'redirect' && { status: d.status, location: d.location, route: d.route }, { status: 301, location: 'https://example.com:8080/p?q', route: undefined });
    assert.equal(selectRoute(config('ALL'), request({ scheme: 'https' })).kind, 'route');
  });

  it('EXTERNAL_ONLY spares requests marked x-envoy-internal', () => {
    assert.equal(selectRoute(config('EXTERNAL_ONLY'), request({})).kind, 'redirect');
    assert.equal(selectRoute(config('EXTERNAL_ONLY'), request({ headers: { 'x-envoy-internal': 'true' } })).kind, 'route');
    assert.equal(selectRoute(config('NONE'), request({})).kind, 'route');
  });
});

describe('direct_response', () => {
  it('answers with the status and the body (string, bytes or environment variable)', () => {
    const answer = (body: Record<string, unknown> | undefined) => {
      const d = selectRoute(compiled(oneHost([{ match: { prefix: '/' }, directResponse: { status: 418, ...(body ? { body } : {}) } }])), request());
      return d.kind === 'direct_response' ? { status: d.status, body: d.body?.toString('utf8') } : undefined;
    };
    assert.deepEqual(answer({ inlineString: 'short and stout' }), { status: 418, body: 'short and stout' });
    assert.deepEqual(answer({ inlineBytes: Buffer.from('tea').toString('base64') }), { status: 418, body: 'tea' });
    process.env['WEFT_ROUTER_TEST_BODY'] = 'from env';
    assert.deepEqual(answer({ environmentVariable: 'WEFT_ROUTER_TEST_BODY' }), { status: 418, body: 'from env' });
    assert.deepEqual(answer(undefined), { status: 418, body: undefined });
  });

  it('enforces max_direct_response_body_size_bytes (4 KiB by default) and the status range', () => {
    const big = 'x'.repeat(4097);
    const { problems } = compileRouteConfiguration(oneHost([
      { match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: big } } },
      { match: { prefix: '/' }, directResponse: { status: 100 } },
      { match: { prefix: '/' }, directResponse: { status: 200, body: { filename: '/etc/hostname' } } },
    ]));
    assert.deepEqual(problems, [
      'virtualHosts[0].routes[0].directResponse.body: body is 4097 bytes; the maximum is 4096 (max_direct_response_body_size_bytes)',
      'virtualHosts[0].routes[1].directResponse.status: must be in [200, 600) (got 100)',
      'virtualHosts[0].routes[2].directResponse.body.filename: bodies from files are not supported (use inline_string or inline_bytes)',
    ]);
    const raised = compileRouteConfiguration({ ...oneHost([{ match: { prefix: '/' }, directResponse: { status: 200, body: { inlineString: big } } }]), maxDirectResponseBodySizeBytes: { value: 8192 } });
    assert.deepEqual(raised.problems, []);
  });
});
