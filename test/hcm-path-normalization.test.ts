/**
 * The HCM's path settings through a real proxy: `normalize_path` (what the control plane sets for
 * Istio) canonicalizes the path as Envoy does before routing, so `/%61dmin` or `/x\..\admin` cannot
 * slip past a `prefix: /admin` route, and the upstream gets the normalized path; `merge_slashes`; and
 * each `path_with_escaped_slashes_action`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { echo, h1Server, hcm, raw, rawBody, request, routeConfig, startProxy, type Proxy } from './support/hcm-harness.ts';

type Server = Awaited<ReturnType<typeof h1Server>>;

/** Which upstream answered, and the path it saw. */
function seen(response: string): { tag: string; url: string } {
  const { tag, url } = JSON.parse(rawBody(response)) as { tag: string; url: string };
  return { tag, url };
}

function get(proxy: Proxy, path: string): Promise<string> {
  return raw(proxy.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
}

describe('HCM path normalization', () => {
  let admin: Server;
  let up: Server;
  const proxies: Record<string, Proxy> = {};

  const start = (extra: Record<string, unknown>): Promise<Proxy> => startProxy(hcm({
    routeConfig: routeConfig([
      { match: { prefix: '/admin' }, route: { cluster: 'admin' } },
      { match: { prefix: '/' }, route: { cluster: 'up' } },
    ]),
    ...extra,
  }), (c) => {
    c.add({ name: 'admin', hosts: [{ address: '127.0.0.1', port: admin.port }] });
    c.add({ name: 'up', hosts: [{ address: '127.0.0.1', port: up.port }] });
  });

  before(async () => {
    admin = await h1Server(echo('admin'));
    up = await h1Server(echo('up'));
    // As the control plane configures sidecars and gateways for Istio.
    proxies['istio'] = await start({ normalizePath: { value: true }, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' });
    proxies['merge'] = await start({ normalizePath: { value: true }, mergeSlashes: true });
    proxies['reject'] = await start({ normalizePath: { value: true }, pathWithEscapedSlashesAction: 'REJECT_REQUEST' });
    proxies['redirect'] = await start({ normalizePath: { value: true }, pathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT' });
    proxies['forward'] = await start({ normalizePath: { value: true }, pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD' });
    proxies['origin-only'] = await start({ normalizePath: { value: true }, httpProtocolOptions: { allowAbsoluteUrl: false } });
  });

  after(async () => {
    for (const p of Object.values(proxies)) await p.close();
    await admin.close();
    await up.close();
  });

  it('routes and forwards the canonical path: encoded unreserved characters, backslashes and dot segments cannot bypass a prefix route', async () => {
    const cases: [string, string][] = [
      ['/%61dmin/secret', '/admin/secret'],
      ['/x\\..\\admin/secret', '/admin/secret'],
      ['/x/%2e%2E/admin/secret?q=/../', '/admin/secret?q=/../'],
      ['/./admin/./secret', '/admin/secret'],
      ['/%41DMIN', '/ADMIN'],
    ];
    for (const [path, normalized] of cases) {
      const out = await get(proxies['istio']!, path);
      assert.match(out, /^HTTP\/1\.1 200 /, path);
      const { tag, url } = seen(out);
      assert.equal(url, normalized, path);
      assert.equal(tag, normalized.startsWith('/admin') ? 'admin' : 'up', path);
    }
  });

  it('keeps other escapes as sent, escapes what must be, and refuses an escaped NUL', async () => {
    assert.equal(seen(await get(proxies['istio']!, '/a%2Fb%c3%a9"x')).url, '/a%2Fb%c3%a9%22x');
    const bad = await request(`${proxies['istio']!.url}/a%00b`);
    assert.equal(bad.status, 400);
    assert.match(String(bad.headers['x-weft-error']), /^invalid request path "\/a%00b"/);
    assert.equal(proxies['istio']!.counter('http.test.downstream_rq_failed_path_normalization'), 1);
  });

  it('refuses a request path with a fragment, as Envoy does (a client never sends one)', async () => {
    const out = await raw(proxies['istio']!.port, 'GET /admin#x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 /);
    assert.match(out, /x-weft-error: a fragment in the request path "\/admin#x"/);
  });

  it('serves only paths, as Envoy: OPTIONS * and a target that is no path get 404, or a 400 protocol error where the HTTP/1 codec reads URLs', async () => {
    const send = (p: Proxy, line: string) => raw(p.port, `${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const istio = proxies['istio']!;
    const only = proxies['origin-only']!;
    // allow_absolute_url (Envoy's default, so Istio's listeners): the codec takes URLs, and "admin" is
    // none: a protocol error, which closes the connection.
    const invalid = await send(istio, 'GET admin HTTP/1.1');
    assert.match(invalid, /^HTTP\/1\.1 400 [^]*x-weft-error: malformed HTTP request: client sent a request target that is neither a path nor an http\(s\) URL "admin"/);
    assert.match(invalid, /\r\nconnection: close\r\n/);
    assert.equal(istio.counter('http.test.downstream_cx_protocol_error'), 1);
    assert.equal(seen(await send(istio, 'GET http://x/%61dmin HTTP/1.1')).tag, 'admin', 'an absolute-form target is routed on its normalized path');
    const asterisk = await send(istio, 'OPTIONS * HTTP/1.1');
    assert.match(asterisk, /^HTTP\/1\.1 404 /);
    assert.match(asterisk, /x-weft-error: a request path that does not start with "\/" "\*"/);
    assert.equal(istio.counter('http.test.downstream_rq_non_relative_path'), 1);
    // Without it, the whole target is the path: not a relative one.
    assert.match(await send(only, 'GET admin HTTP/1.1'), /^HTTP\/1\.1 404 /);
    const absolute = await send(only, 'GET http://x/admin HTTP/1.1');
    assert.match(absolute, /^HTTP\/1\.1 404 [^]*x-weft-error: an absolute-form request target, which this listener does not take/);
    assert.equal(only.counter('http.test.downstream_rq_non_relative_path'), 2);
    assert.equal(seen(await get(only, '/admin')).tag, 'admin');
  });

  it('merges slashes when merge_slashes is set, and only then', async () => {
    assert.equal(seen(await get(proxies['merge']!, '//admin///secret')).url, '/admin/secret');
    assert.equal(seen(await get(proxies['istio']!, '//admin///secret')).url, '//admin///secret');
  });

  it('path_with_escaped_slashes_action: keep, reject, redirect, forward', async () => {
    assert.deepEqual(seen(await get(proxies['istio']!, '/x%2F..%2Fadmin')), { tag: 'up', url: '/x%2F..%2Fadmin' });
    const rejected = await request(`${proxies['reject']!.url}/x%2Fy`);
    assert.equal(rejected.status, 400);
    assert.equal(proxies['reject']!.counter('http.test.downstream_rq_failed_path_normalization'), 1);
    const redirected = await request(`${proxies['redirect']!.url}/x%2F..%2Fadmin?a=%2F`);
    assert.equal(redirected.status, 307);
    assert.equal(redirected.headers['location'], '/admin?a=%2F');
    assert.equal(proxies['redirect']!.counter('http.test.downstream_rq_redirected_with_normalized_path'), 1);
    const grpc = await request(`${proxies['redirect']!.url}/x%2Fy`, { method: 'POST', headers: { 'content-type': 'application/grpc' } });
    // gRPC clients follow no redirects: refused instead, as a trailers-only gRPC error.
    assert.equal(grpc.headers['location'], undefined);
    assert.notEqual(grpc.headers['grpc-status'], undefined);
    assert.equal(proxies['redirect']!.counter('http.test.downstream_rq_failed_path_normalization'), 1);
    assert.deepEqual(seen(await get(proxies['forward']!, '/x%2F..%5Cadmin')), { tag: 'admin', url: '/admin' });
    assert.deepEqual(seen(await get(proxies['redirect']!, '/admin/a/b')), { tag: 'admin', url: '/admin/a/b' }, 'nothing to unescape: forwarded');
  });
});
