/**
 * The HTTP connection manager across protocols: HTTP/1.1 ↔ HTTP/2 both ways, gRPC unary and server
 * streaming with trailers (and gRPC local replies), WebSocket echo through an upgrade, CONNECT tunnels
 * over HTTP/1.1 and HTTP/2, and streaming bodies.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  decodeFrame, echo, encodeFrame, h1Server, h2request, h2Server, hcm, logLine, raw, rawConnection, request, routeConfig, startProxy,
  tcpEchoServer, TEST_TLS, waitFor, wsEchoServer, type Proxy,
} from './support/hcm-harness.ts';

const identity = (b: Buffer): Buffer => b;
const SERVICE: grpc.ServiceDefinition = {
  Echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  Count: { path: '/test.Echo/Count', requestStream: false, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  Fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};

async function grpcServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-trailer', 'unary');
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request]), md);
    },
    Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      for (let i = 1; i <= 3; i++) call.write(Buffer.from(String(i)));
      const md = new grpc.Metadata();
      md.set('x-trailer', 'stream');
      call.end(md);
    },
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb({ code: grpc.status.NOT_FOUND, details: 'nothing here' }),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

type Closer = { port: number; close(): Promise<void> };

describe('HCM protocols', () => {
  let h1: Closer;
  let h2: Closer;
  let g: Closer;
  let ws: Closer;
  let tcp: Closer;
  let proxy: Proxy;
  let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  before(async () => {
    h1 = await h1Server(echo('h1'));
    h2 = await h2Server((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ tag: 'h2', httpVersion: req.httpVersion, url: req.url, authority: req.headers[':authority'], body: Buffer.concat(chunks).toString(), trailers: req.trailers }));
      });
    });
    g = await grpcServer();
    ws = await wsEchoServer();
    tcp = await tcpEchoServer();
    const routes = routeConfig([
      { match: { connectMatcher: {} }, route: { cluster: 'passthrough', upgradeConfigs: [{ upgradeType: 'CONNECT', connectConfig: {} }] } },
      { match: { prefix: '/test.Echo/Broken' }, route: { cluster: 'empty' } },
      { match: { prefix: '/test.Echo/' }, route: { cluster: 'grpc' } },
      { match: { prefix: '/h2' }, route: { cluster: 'h2' } },
      { match: { prefix: '/ws' }, route: { cluster: 'ws' } },
      { match: { prefix: '/' }, route: { cluster: 'h1' } },
    ]);
    proxy = await startProxy(hcm({ routeConfig: routes, http2ProtocolOptions: { allowConnect: true } }), (c) => {
      c.add({ name: 'h1', hosts: [{ address: '127.0.0.1', port: h1.port }] });
      c.add({ name: 'h2', http2: true, hosts: [{ address: '127.0.0.1', port: h2.port }] });
      c.add({ name: 'grpc', http2: true, hosts: [{ address: '127.0.0.1', port: g.port }] });
      c.add({ name: 'ws', hosts: [{ address: '127.0.0.1', port: ws.port }] });
      c.add({ name: 'passthrough', originalDst: true });
      c.add({ name: 'empty' });
    });
    const Client = grpc.makeGenericClientConstructor(SERVICE, 'Echo');
    client = new Client(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure()) as typeof client;
  });

  after(async () => {
    client.close();
    await proxy.close();
    await Promise.all([h1.close(), h2.close(), g.close(), ws.close(), tcp.close()]);
  });

  it('HTTP/1.1 downstream to an HTTP/2 upstream', async () => {
    const r = await request(`${proxy.url}/h2/x`, { method: 'POST', body: 'hi', headers: { host: 'svc.example' } });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body);
    assert.equal(seen.httpVersion, '2.0');
    assert.equal(seen.authority, 'svc.example');
    assert.equal(seen.body, 'hi');
  });

  it('HTTP/2 downstream (prior knowledge) to an HTTP/1.1 upstream', async () => {
    const r = await h2request(proxy.url, { ':method': 'POST', ':path': '/one', ':authority': 'svc.example', 'content-type': 'text/plain' }, 'body2');
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body);
    assert.equal(seen.httpVersion, '1.1');
    assert.equal(seen.headers.host, 'svc.example');
    assert.equal(seen.body, 'body2');
    assert.equal(r.headers['server'], 'weft');
  });

  it('HTTP/2 downstream to an HTTP/2 upstream', async () => {
    const r = await h2request(proxy.url, { ':path': '/h2/both', ':authority': 'svc.example' });
    assert.equal(JSON.parse(r.body).httpVersion, '2.0');
  });

  it('HTTP/2 request trailers reach an HTTP/2 upstream; an HTTP/1.1 upstream gets none, as from Envoy', async () => {
    const client = http2.connect(proxy.url);
    try {
      const send = async (path: string) => {
        const req = client.request({ ':method': 'POST', ':path': path, ':authority': 'svc.example' }, { waitForTrailers: true });
        req.on('wantTrailers', () => req.sendTrailers({ 'x-checksum': 'c0ffee' }));
        req.end('streamed');
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        await new Promise((resolve, reject) => req.on('end', resolve).on('error', reject));
        return JSON.parse(text) as { body: string; httpVersion: string; trailers: Record<string, string> };
      };
      const h2seen = await send('/h2/trailers');
      assert.equal(h2seen.httpVersion, '2.0');
      assert.equal(h2seen.body, 'streamed');
      assert.equal(h2seen.trailers['x-checksum'], 'c0ffee');
      const h1seen = await send('/one');
      assert.equal(h1seen.httpVersion, '1.1');
      assert.equal(h1seen.body, 'streamed');
      assert.deepEqual(h1seen.trailers, {});
    } finally {
      client.close();
    }
  });

  it('gRPC unary with trailers', async () => {
    const { value, trailers } = await new Promise<{ value: Buffer; trailers: grpc.Metadata }>((resolve, reject) => {
      let trailers = new grpc.Metadata();
      const call = client.makeUnaryRequest('/test.Echo/Echo', identity, identity, Buffer.from('ping'), (err: grpc.ServiceError | null, v?: Buffer) => {
        if (err !== null) reject(err);
        else setImmediate(() => resolve({ value: v!, trailers }));
      });
      call.on('status', (s: grpc.StatusObject) => {
        trailers = s.metadata;
      });
    });
    assert.equal(value.toString(), 'echo:ping');
    assert.deepEqual(trailers.get('x-trailer'), ['unary']);
  });

  it('gRPC server streaming with trailers', async () => {
    const got: string[] = [];
    const status = await new Promise<grpc.StatusObject>((resolve, reject) => {
      const call = client.makeServerStreamRequest('/test.Echo/Count', identity, identity, Buffer.from('go'));
      call.on('data', (d: Buffer) => got.push(d.toString()));
      call.on('status', resolve);
      call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.OK ? undefined : reject(e)));
    });
    assert.deepEqual(got, ['1', '2', '3']);
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(status.metadata.get('x-trailer'), ['stream']);
  });

  it('gRPC errors from the upstream pass through', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      client.makeUnaryRequest('/test.Echo/Fail', identity, identity, Buffer.from(''), (e: grpc.ServiceError | null) => resolve(e!));
    });
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'nothing here');
  });

  it('gRPC local replies carry grpc-status mapped from the HTTP status', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      client.makeUnaryRequest('/test.Echo/Broken', identity, identity, Buffer.from(''), (e: grpc.ServiceError | null) => resolve(e!));
    });
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.equal(err.details, 'no healthy upstream in empty');
    assert.deepEqual(err.metadata.get('x-weft-error'), ['no healthy upstream in empty']);
  });

  it('WebSocket upgrade over HTTP/1.1 echoes frames both ways', async () => {
    const c = await rawConnection(proxy.port);
    c.write('GET /ws HTTP/1.1\r\nHost: svc.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    const head = (await c.next()).toString('latin1');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    c.write(encodeFrame('hello', true));
    assert.equal(decodeFrame(await c.next()), 'echo:hello');
    c.write(encodeFrame('again', true));
    assert.equal(decodeFrame(await c.next()), 'echo:again');
    c.socket.destroy();
  });

  it('WebSocket over HTTP/2 extended CONNECT reaches an HTTP/1.1 WebSocket upstream', async () => {
    const session = http2.connect(proxy.url);
    try {
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
      assert.equal(session.remoteSettings.enableConnectProtocol, true);
      const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws', ':scheme': 'http', ':authority': 'svc.example' }, { endStream: false });
      const head = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
      assert.equal(head[':status'], 200, String(head['x-weft-error']));
      stream.write(encodeFrame('over h2', true));
      const frame = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
      assert.equal(decodeFrame(frame), 'echo:over h2');
      stream.close();
    } finally {
      session.destroy();
    }
  });

  it('CONNECT over HTTP/1.1 tunnels bytes to the target', async () => {
    const c = await rawConnection(proxy.port);
    c.write(`CONNECT 127.0.0.1:${tcp.port} HTTP/1.1\r\nHost: 127.0.0.1:${tcp.port}\r\n\r\n`);
    assert.match((await c.next()).toString(), /^HTTP\/1\.1 200 /);
    c.write('tunnel');
    assert.equal((await c.next()).toString(), 'echo:tunnel');
    c.socket.destroy();
  });

  it('CONNECT over HTTP/2 tunnels bytes on the stream', async () => {
    const session = http2.connect(proxy.url);
    try {
      const stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${tcp.port}` }, { endStream: false });
      const status = await new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
      assert.equal(status, 200);
      stream.write('h2 tunnel');
      const data = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
      assert.equal(data.toString(), 'echo:h2 tunnel');
      stream.close();
    } finally {
      session.destroy();
    }
  });

  it('CONNECT to a closed port is a 503 UF naming the target and cluster', async () => {
    const c = await rawConnection(proxy.port);
    c.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n');
    const head = (await c.next()).toString();
    assert.match(head, /^HTTP\/1\.1 503 /);
    assert.match(head, /x-weft-error: upstream connect error to 127\.0\.0\.1:1 in passthrough: ECONNREFUSED/);
    await c.closed;
    await waitFor(() => proxy.log.some((l) => logLine(l).startsWith('503 UF upstream connect error to 127.0.0.1:1')));
  });

  it('answers 400 to a CONNECT target that is not host:port and to an absolute-form port out of range, as the codec errors they are', async () => {
    const errors = proxy.counter('http.test.downstream_cx_protocol_error');
    const cases: [string, RegExp][] = [
      ['CONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n', /client sent a CONNECT target that is not host:port with a port of 1 to 65535 "\/x"/],
      ['CONNECT ratings HTTP/1.1\r\n\r\n', /CONNECT target that is not host:port/],
      ['GET http://ratings:99999/ HTTP/1.1\r\nHost: ratings\r\n\r\n', /client sent an invalid host or port in the request target "http:\/\/ratings:99999\/"/],
      ['GET http://ratings:0/x HTTP/1.1\r\n\r\n', /invalid host or port in the request target/],
    ];
    for (const [request, cause] of cases) {
      const out = await raw(proxy.port, request);
      assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/, request);
      assert.match(out, cause, request);
    }
    assert.equal(proxy.counter('http.test.downstream_cx_protocol_error'), errors + cases.length);
  });
});

describe('HCM over TLS (codec by ALPN)', () => {
  let up: Closer;
  let proxy: Proxy;

  before(async () => {
    up = await h1Server(echo('up'));
    proxy = await startProxy(hcm({ routeConfig: routeConfig([{ match: { prefix: '/' }, route: { cluster: 'up' } }]) }), (c) => {
      c.add({ name: 'up', hosts: [{ address: '127.0.0.1', port: up.port }] });
    }, { tls: true });
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('serves HTTP/2 negotiated by ALPN, with x-forwarded-proto https', async () => {
    const session = http2.connect(proxy.url, { ca: TEST_TLS.cert });
    try {
      const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/tls', ':authority': 'svc.example' });
        let status = 0;
        let body = '';
        req.on('response', (h) => {
          status = Number(h[':status']);
        });
        req.on('data', (d) => {
          body += d;
        });
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body);
      assert.equal(seen.headers['x-forwarded-proto'], 'https');
      assert.equal(seen.headers.host, 'svc.example');
    } finally {
      session.close();
    }
  });

  it('serves HTTP/1.1 negotiated by ALPN', async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get(`${proxy.url}/tls1`, { ca: TEST_TLS.cert, agent: new https.Agent({ ALPNProtocols: ['http/1.1'] }) }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).headers['x-forwarded-proto'], 'https');
  });
});

describe('HCM behind a listener filter that read ahead', () => {
  let up: Closer;
  let proxy: Proxy;

  before(async () => {
    up = await h1Server(echo('up'));
    proxy = await startProxy(hcm({ routeConfig: routeConfig([{ match: { prefix: '/' }, route: { cluster: 'up' } }]) }), (c) => {
      c.add({ name: 'up', hosts: [{ address: '127.0.0.1', port: up.port }] });
    }, { preread: true });
  });

  after(async () => {
    await proxy.close();
    await up.close();
  });

  it('replays the bytes read ahead to the HTTP/1.1 codec (keep-alive requests after them too)', async () => {
    const out = await raw(proxy.port, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(out.match(/HTTP\/1\.1 200/g)?.length, 2);
  });

  it('replays them to the HTTP/2 codec', async () => {
    const r = await h2request(proxy.url, { ':path': '/h2-preread' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).url, '/h2-preread');
  });
});
