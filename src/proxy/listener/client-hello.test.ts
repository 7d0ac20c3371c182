import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { Stats } from '../core/stats.ts';
import { parseClientHello } from './client-hello.ts';
import type { InspectState } from './listener-filter.ts';
import { MAX_CLIENT_HELLO, tlsInspectorFactory } from './tls-inspector.ts';

/** The bytes a real Node TLS client sends first: a server reads them and stops (no certificate needed). */
async function captureClientHello(options: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) => {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (parseClientHello(data).kind !== 'more') {
          socket.destroy();
          resolve(data);
        }
      });
    });
  });
  const client = tlsConnect({ host: '127.0.0.1', port, ...options, rejectUnauthorized: false });
  client.on('error', () => {});
  const bytes = await got;
  client.destroy();
  server.close();
  return bytes;
}

function state(): InspectState {
  return { serverName: '', alpn: [], transport: 'raw_buffer', localAddress: '127.0.0.1', localPort: 1, restored: false };
}

test('a real ClientHello from tls.connect: SNI (lower-cased) and ALPN', async () => {
  const hello = await captureClientHello({ servername: 'Reviews.Default.svc.cluster.local', ALPNProtocols: ['h2', 'http/1.1'] });
  assert.deepEqual(parseClientHello(hello), { kind: 'tls', serverName: 'reviews.default.svc.cluster.local', alpn: ['h2', 'http/1.1'] });
  for (let cut = 0; cut < hello.length; cut += 7) assert.equal(parseClientHello(hello.subarray(0, cut)).kind, 'more', `truncated at ${cut}`);
});

test('a ClientHello without SNI or ALPN is still TLS', async () => {
  const hello = await captureClientHello({});
  assert.deepEqual(parseClientHello(hello), { kind: 'tls', serverName: '', alpn: [] });
});

test('a handshake message split over several records is reassembled', async () => {
  const hello = await captureClientHello({ servername: 'split.example.com', ALPNProtocols: ['h2'] });
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const record = (part: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 3, 1, part.length >> 8, part.length & 0xff]), part]);
  const split = Buffer.concat([record(body.subarray(0, 3)), record(body.subarray(3, 100)), record(body.subarray(100))]);
  assert.deepEqual(parseClientHello(split), { kind: 'tls', serverName: 'split.example.com', alpn: ['h2'] });
});

test('not TLS: plaintext, HTTP, SSLv2-style hellos, a non-ClientHello handshake, bad lengths', () => {
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).kind, 'not-tls');
  assert.equal(parseClientHello(Buffer.from([0x80, 0x2e, 0x01])).kind, 'not-tls');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x02])).kind, 'not-tls');
  assert.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 0x02, 0, 0, 0])).kind, 'not-tls');
  assert.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0, 0])).kind, 'not-tls');
  assert.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0, 6, 0x01, 0, 0, 2, 3, 3])).kind, 'not-tls', 'body shorter than version + random');
  assert.equal(parseClientHello(Buffer.from([0x16])).kind, 'more');
});

test('property: arbitrary bytes and corrupted real hellos never throw', async () => {
  const hello = await captureClientHello({ servername: 'fuzz.example.com', ALPNProtocols: ['h2'] });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
    parseClientHello(Buffer.from(bytes));
  }));
  fc.assert(fc.property(fc.integer({ min: 0, max: hello.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, value) => {
    const copy = Buffer.from(hello);
    copy[at] = value;
    const result = parseClientHello(copy);
    assert.ok(['more', 'not-tls', 'tls'].includes(result.kind));
  }));
});

test('the inspector sets transport, SNI and ALPN, counts, and closes on an oversized hello', async () => {
  const stats = new Stats();
  const inspector = tlsInspectorFactory.create({}, stats);
  const hello = await captureClientHello({ servername: 'a.example.com', ALPNProtocols: ['h2'] });
  const s = state();
  assert.equal(inspector.inspect(s, Buffer.alloc(0), undefined as never), 'need-data');
  assert.equal(inspector.inspect(s, hello, undefined as never), 'continue');
  assert.deepEqual([s.transport, s.serverName, s.alpn], ['tls', 'a.example.com', ['h2']]);
  const plain = state();
  assert.equal(inspector.inspect(plain, Buffer.from('hello'), undefined as never), 'continue');
  assert.equal(plain.transport, 'raw_buffer');
  const huge = Buffer.alloc(MAX_CLIENT_HELLO + 10);
  huge.set([0x16, 3, 1, 0x40, 0x00, 0x01, 0x01, 0x00, 0x00]); // a 64 KiB ClientHello announced, never complete
  for (let off = 5 + 0x4000; off + 5 < huge.length; off += 5 + 0x4000) huge.set([0x16, 3, 1, 0x40, 0x00], off);
  assert.equal(inspector.inspect(state(), huge, undefined as never), 'close');
  const counts = Object.fromEntries(stats.entries().map((e) => [e.name, e.value]));
  assert.equal(counts['tls_inspector.tls_found'], 1);
  assert.equal(counts['tls_inspector.sni_found'], 1);
  assert.equal(counts['tls_inspector.alpn_found'], 1);
  assert.equal(counts['tls_inspector.tls_not_found'], 1);
  assert.equal(counts['tls_inspector.client_hello_too_large'], 1);
});

test('config validation: initial_read_buffer_size range', () => {
  assert.deepEqual(tlsInspectorFactory.validate({ initialReadBufferSize: { value: 1024 } }), []);
  assert.match(tlsInspectorFactory.validate({ initialReadBufferSize: { value: 10 } }).join(), /typedConfig\.initialReadBufferSize: must be 256-65536/);
});
