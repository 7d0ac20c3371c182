import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downstreamResponseHeaders, RequestHeaderEditor, trailersOf, upstreamRequestHeaders } from './upstream-headers.ts';
import type { HeaderMap } from './headers.ts';

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

describe('headers across the proxy', () => {
  it('the upstream request drops hop-by-hop, pseudo, consumed and Connection-listed headers and sets Host', () => {
    const h: HeaderMap = {
      ':path': '/x', host: 'old', connection: 'keep-alive, x-hop', 'x-hop': '1', 'keep-alive': '5', 'transfer-encoding': 'chunked', upgrade: 'h2c',
      te: 'trailers', expect: '100-continue', 'x-envoy-retry-on': '5xx', 'x-envoy-internal': 'true', cookie: ['a=1', 'b=2'], removed: undefined,
    };
    assert.deepEqual(pairs(upstreamRequestHeaders(h, 'new:80')), [['te', 'trailers'], ['x-envoy-internal', 'true'], ['cookie', 'a=1'], ['cookie', 'b=2'], ['host', 'new:80']]);
  });

  it('te other than trailers is dropped', () => {
    assert.deepEqual(upstreamRequestHeaders({ te: 'gzip' }, 'h'), ['host', 'h']);
  });

  it('the downstream response drops hop-by-hop fields (keeping Upgrade for a 101)', () => {
    const up = { connection: 'close, x-hop', 'x-hop': '1', 'transfer-encoding': 'chunked', 'content-type': 'text/plain', upgrade: 'websocket', 'set-cookie': ['a', 'b'] };
    assert.deepEqual(downstreamResponseHeaders(up, false), { 'content-type': 'text/plain', 'set-cookie': ['a', 'b'] });
    assert.deepEqual(downstreamResponseHeaders({ connection: 'Upgrade', upgrade: 'websocket' }, true), { connection: 'Upgrade', upgrade: 'websocket' });
  });

  it('trailers keep application fields only', () => {
    assert.deepEqual(trailersOf({ 'grpc-status': '0', 'content-length': '3' }), { 'grpc-status': '0' });
    assert.equal(trailersOf({}), undefined);
  });

  it('route mutations edit request headers in place', () => {
    const h: HeaderMap = { a: '1' };
    const e = new RequestHeaderEditor(h);
    e.append('a', '2');
    e.set('b', '3');
    e.remove('c');
    e.append('d', '4');
    assert.deepEqual(h, { a: ['1', '2'], b: '3', d: '4' });
    e.remove('a');
    assert.equal(h['a'], undefined);
    assert.equal(e.has('a'), false);
  });
});
