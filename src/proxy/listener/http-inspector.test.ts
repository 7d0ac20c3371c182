import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Stats } from '../core/stats.ts';
import { detectHttp, httpInspectorFactory, MAX_INSPECT_SIZE } from './http-inspector.ts';
import type { HttpDetection } from './http-inspector.ts';
import type { InspectState } from './listener-filter.ts';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

test('detection table', () => {
  const table: [string, HttpDetection][] = [
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'http/1.1'],
    ['POST /x?y=1 HTTP/1.0\r\n', 'http/1.0'],
    ['GET http://example.com/ HTTP/1.1\n', 'http/1.1'],
    ['CONNECT example.com:443 HTTP/1.1\r\n', 'http/1.1'],
    ['M-SEARCH * HTTP/1.1\r\n', 'http/1.1'],
    [PREFACE, 'h2c'],
    [`${PREFACE}\0\0\0\x04`, 'h2c'],
    ['PRI * HTTP/2', 'more'],
    ['GE', 'more'],
    ['GET /index', 'more'],
    ['GET / HTTP/1.1', 'more'],
    ['GET / HTTP/2.0\r\n', 'none'],
    ['GET / HTTP/1.2\r\n', 'none'],
    ['GET  / HTTP/1.1\r\n', 'none'],
    [' GET / HTTP/1.1\r\n', 'none'],
    ['GET /\x01 HTTP/1.1\r\n', 'none'],
    ['hello\n', 'none'],
    ['\x16\x03\x01', 'none'],
    ['SSH-2.0-OpenSSH_9.6\r\n', 'none'],
  ];
  for (const [input, want] of table) assert.equal(detectHttp(Buffer.from(input, 'latin1')), want, JSON.stringify(input));
});

test('a request line that never ends is not HTTP once the inspection limit is reached', () => {
  assert.equal(detectHttp(Buffer.from(`GET /${'a'.repeat(MAX_INSPECT_SIZE)}`)), 'none');
});

test('property: any prefix of a valid request line asks for more, never decides wrongly', () => {
  fc.assert(fc.property(fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH'), fc.webPath(), fc.constantFrom('0', '1'), (method, path, minor) => {
    const line = `${method} ${path === '' ? '/' : path} HTTP/1.${minor}\r\n`;
    for (let i = 1; i < line.length - 1; i++) assert.equal(detectHttp(Buffer.from(line.slice(0, i))), 'more', line.slice(0, i));
    assert.equal(detectHttp(Buffer.from(line)), minor === '1' ? 'http/1.1' : 'http/1.0');
  }));
});

test('the inspector sets ALPN, counts, and skips TLS connections', () => {
  const stats = new Stats();
  const inspector = httpInspectorFactory.create({}, stats);
  const state = (transport: 'raw_buffer' | 'tls' = 'raw_buffer'): InspectState => ({ serverName: '', alpn: [], transport, localAddress: '', localPort: 0, restored: false });
  const h1 = state();
  assert.equal(inspector.inspect(h1, Buffer.alloc(0), undefined as never), 'need-data');
  assert.equal(inspector.inspect(h1, Buffer.from('GET / HTTP/1.1\r\n'), undefined as never), 'continue');
  assert.deepEqual(h1.alpn, ['http/1.1']);
  const h2 = state();
  assert.equal(inspector.inspect(h2, Buffer.from(PREFACE), undefined as never), 'continue');
  assert.deepEqual(h2.alpn, ['h2c']);
  const tls = state('tls');
  assert.equal(inspector.inspect(tls, Buffer.alloc(0), undefined as never), 'continue');
  assert.deepEqual(tls.alpn, []);
  assert.equal(inspector.inspect(state(), Buffer.from('\x00\x01'), undefined as never), 'continue');
  const counts = Object.fromEntries(stats.entries().map((e) => [e.name, e.value]));
  assert.deepEqual([counts['http_inspector.http11_found'], counts['http_inspector.http2_found'], counts['http_inspector.http_not_found']], [1, 1, 1]);
});
