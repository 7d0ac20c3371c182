import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHcm, type HcmConfig } from './hcm-config.ts';
import type { HeaderMap } from './headers.ts';
import { builtinFilters } from './index.ts';
import { mutateRequestHeaders, stripPort } from './request-headers.ts';
import { Problems } from './router/proto.ts';

function config(extra: Record<string, unknown> = {}): HcmConfig {
  const problems = new Problems();
  const c = compileHcm({ statPrefix: 't', routeConfig: {}, ...extra }, builtinFilters(), problems);
  assert.deepEqual(problems.list, []);
  return c;
}

const conn = (remoteAddress: string, tls = false) => ({ remoteAddress, remotePort: 5555, localAddress: '10.0.0.1', localPort: 8080, tls });
const head = (headers: HeaderMap, authority = 'svc:8080') => ({ method: 'GET', authority, path: '/', scheme: 'http' as const, protocol: 'HTTP/1.1' as const, headers });

describe('connection manager request headers', () => {
  it('edge (use_remote_address): appends the client, strips x-envoy-*, regenerates the request id', () => {
    const h: HeaderMap = { 'x-forwarded-for': '1.2.3.4', 'x-envoy-max-retries': '9', 'x-request-id': 'outside', 'x-envoy-internal': 'true' };
    const cls = mutateRequestHeaders(config({ useRemoteAddress: { value: true } }), head(h), conn('203.0.113.7'), []);
    assert.deepEqual(cls, { internal: false, edge: true });
    assert.equal(h['x-forwarded-for'], '1.2.3.4,203.0.113.7');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-envoy-max-retries'], undefined);
    assert.equal(h['x-envoy-internal'], undefined);
    assert.equal(h['x-envoy-external-address'], '203.0.113.7');
    assert.notEqual(h['x-request-id'], 'outside');
  });

  it('edge with trusted hops reads the client from x-forwarded-for and keeps its x-forwarded-proto', () => {
    const h: HeaderMap = { 'x-forwarded-for': '198.51.100.1,10.1.1.1', 'x-forwarded-proto': 'https' };
    mutateRequestHeaders(config({ useRemoteAddress: { value: true }, xffNumTrustedHops: 1 }), head(h), conn('10.0.0.9'), []);
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-envoy-external-address'], '10.1.1.1');
  });

  it('an internal client (single internal address) is marked and keeps its request id', () => {
    const h: HeaderMap = { 'x-request-id': 'mine' };
    const cls = mutateRequestHeaders(config({ useRemoteAddress: { value: true } }), head(h), conn('::ffff:10.2.3.4', true), ['x-secret']);
    assert.deepEqual(cls, { internal: true, edge: false });
    assert.equal(h['x-envoy-internal'], 'true');
    assert.equal(h['x-request-id'], 'mine');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-for'], '10.2.3.4');
  });

  it('a sidecar (no use_remote_address) leaves x-forwarded-for and x-envoy-* alone and adds a request id', () => {
    const h: HeaderMap = { 'x-envoy-retry-on': '5xx' };
    const cls = mutateRequestHeaders(config(), head(h), conn('203.0.113.7'), []);
    assert.deepEqual(cls, { internal: false, edge: false });
    assert.equal(h['x-forwarded-for'], undefined);
    assert.equal(h['x-envoy-retry-on'], '5xx');
    assert.match(String(h['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('strips internal-only headers from external requests at the edge', () => {
    const h: HeaderMap = { 'x-secret': 's' };
    mutateRequestHeaders(config({ useRemoteAddress: { value: true } }), head(h), conn('203.0.113.7'), ['x-secret']);
    assert.equal(h['x-secret'], undefined);
  });

  it('strips the port as configured', () => {
    const r = head({});
    mutateRequestHeaders(config({ stripAnyHostPort: true }), r, conn('10.0.0.2'), []);
    assert.equal(r.authority, 'svc');
    assert.equal(stripPort('svc:9090', 8080), 'svc:9090');
    assert.equal(stripPort('svc:8080', 8080), 'svc');
    assert.equal(stripPort('[::1]:8080', undefined), '[::1]');
    assert.equal(stripPort('[::1]', undefined), '[::1]');
  });
});
