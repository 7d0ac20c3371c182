import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FramePool, SLAB_BYTES } from './frame-pool.ts';
import { GrpcCall, parseGrpcTimeout } from './grpc-call.ts';
import { encodeGrpcMessage, GrpcStatus } from '../../xds/grpc-status.ts';
import type { CallStatus } from './grpc-call.ts';
import { GrpcServer } from './grpc-server.ts';
import { frameMessage } from '../../xds/grpc-frames.ts';

/** A length-prefixed gRPC message. */
const frame = (body: Buffer | string, compressed = false): Buffer => frameMessage(Buffer.from(body), compressed);

/** Splits a received body into its messages. */
function messages(body: Buffer): string[] {
  const out: string[] = [];
  for (let pos = 0; pos < body.length;) {
    const n = body.readUInt32BE(pos + 1);
    out.push(body.subarray(pos + 5, pos + 5 + n).toString());
    pos += 5 + n;
  }
  return out;
}

interface Exchange {
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: http2.IncomingHttpHeaders;
}

/**
 * The test server's one method, `/t.T/Echo`: echoes each request ("text" → "echo:text"; "big" → a
 * response filling most of a slab); "end" ends the call OK, "fail" with INTERNAL and a non-ASCII message; "!" makes decoding throw.
 */
describe('gRPC transport (ADS server side)', () => {
  const pool = new FramePool(4);
  const closed: (Error | undefined)[] = [];
  let server: GrpcServer;
  let port = 0;
  let client: http2.ClientHttp2Session;

  before(async () => {
    server = new GrpcServer(new Map([['/t.T/Echo', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      const call = new GrpcCall(stream, headers, {
        decode: (b) => {
          if (b.toString() === '!') throw new Error('bad bytes');
          return b.toString();
        },
        messageName: 'EchoRequest', maxRequestBytes: 64, pool,
      });
      call.start({
        message: (text) => {
          if (text === 'end') return call.end();
          if (text === 'fail') return call.end({ code: GrpcStatus.INTERNAL, details: 'broken 100% — ü' } satisfies CallStatus);
          const reply = text === 'big' ? Buffer.alloc(SLAB_BYTES - 200, 'x') : Buffer.from(`echo:${text}`);
          call.write({ length: reply.length, writeTo: (out, offset) => reply.copy(out, offset) });
        },
        halfClosed: () => call.end(),
        closed: (e) => closed.push(e),
        drain: () => {},
        written: () => {},
      });
    }]]), { keepaliveMs: 50, keepaliveTimeoutMs: 100 });
    port = await server.listen('127.0.0.1', 0);
    client = http2.connect(`http://127.0.0.1:${port}`);
  });
  after(async () => {
    client.close();
    await server.close(100);
  });

  function call(path: string, chunks: Buffer[], headers: http2.OutgoingHttpHeaders = {}, method = 'POST'): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      const req = client.request({ ':method': method, ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
      let head: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      const body: Buffer[] = [];
      req.on('response', (h) => (head = h));
      req.on('trailers', (t) => (trailers = t));
      req.on('data', (d: Buffer) => body.push(d));
      req.on('end', () => resolve({ headers: head, body: Buffer.concat(body), trailers }));
      req.on('error', reject);
      // One byte at a time for the first chunk: messages must survive any split.
      const [first, ...rest] = chunks;
      if (first !== undefined) for (const byte of first) req.write(Buffer.of(byte));
      for (const c of rest) req.write(c);
      req.end();
    });
  }

  it('decodes messages split across chunks and several in one chunk; ends OK with trailers when the client half-closes', async () => {
    const r = await call('/t.T/Echo', [frame('a'), Buffer.concat([frame('bb'), frame('ccc')])]);
    assert.equal(r.headers[':status'], 200);
    assert.equal(r.headers['content-type'], 'application/grpc');
    assert.deepEqual(messages(r.body), ['echo:a', 'echo:bb', 'echo:ccc']);
    assert.equal(r.trailers['grpc-status'], '0');
  });

  it('ends with the status the handler gives, its message percent-encoded', async () => {
    const r = await call('/t.T/Echo', [frame('x'), frame('fail')]);
    assert.deepEqual(messages(r.body), ['echo:x']);
    assert.equal(r.trailers['grpc-status'], String(GrpcStatus.INTERNAL));
    assert.equal(r.trailers['grpc-message'], encodeGrpcMessage('broken 100% — ü'));
    assert.equal(decodeURIComponent(String(r.trailers['grpc-message'])), 'broken 100% — ü');
  });

  it('answers a status alone (trailers-only) when nothing was sent', async () => {
    const r = await call('/t.T/Echo', [frame('end')]);
    assert.equal(r.headers['grpc-status'], '0');
    assert.equal(r.body.length, 0);
  });

  it('refuses a request it cannot decode with INVALID_ARGUMENT naming the message type, and reports it', async () => {
    const before = closed.length;
    const r = await call('/t.T/Echo', [frame('!')]);
    assert.equal(r.headers['grpc-status'], String(GrpcStatus.INVALID_ARGUMENT));
    assert.equal(decodeURIComponent(String(r.headers['grpc-message'])), 'malformed EchoRequest: bad bytes');
    assert.match(String(closed[before]?.message), /malformed EchoRequest/);
  });

  it('refuses a request over the size limit with RESOURCE_EXHAUSTED before reading it', async () => {
    const r = await call('/t.T/Echo', [frame('x'.repeat(65))]);
    assert.equal(r.headers['grpc-status'], String(GrpcStatus.RESOURCE_EXHAUSTED));
    assert.equal(decodeURIComponent(String(r.headers['grpc-message'])), 'EchoRequest of 65 bytes exceeds the limit of 64');
  });

  it('takes gzip-compressed requests under grpc-encoding: gzip; a compressed flag without it is refused', async () => {
    const ok = await call('/t.T/Echo', [frame(gzipSync('zipped'), true)], { 'grpc-encoding': 'gzip' });
    assert.deepEqual(messages(ok.body), ['echo:zipped']);
    const bad = await call('/t.T/Echo', [frame(gzipSync('zipped'), true)]);
    assert.equal(bad.headers['grpc-status'], String(GrpcStatus.INVALID_ARGUMENT));
    assert.match(decodeURIComponent(String(bad.headers['grpc-message'])), /compressed message without grpc-encoding/);
  });

  it('answers UNIMPLEMENTED for an unknown method and 415 for what is not gRPC', async () => {
    const r = await call('/t.T/Nope', [frame('a')]);
    assert.equal(r.headers['grpc-status'], String(GrpcStatus.UNIMPLEMENTED));
    assert.match(decodeURIComponent(String(r.headers['grpc-message'])), /unknown method \/t\.T\/Nope/);
    const get = await call('/t.T/Echo', [], { 'content-type': 'text/plain' }, 'GET');
    assert.equal(get.headers[':status'], 415);
  });

  it('ends a call whose grpc-timeout passes with DEADLINE_EXCEEDED', async () => {
    assert.equal(parseGrpcTimeout('250m'), 250);
    assert.equal(parseGrpcTimeout('2S'), 2000);
    assert.equal(parseGrpcTimeout('soon'), undefined);
    const result = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const req = client.request({ ':method': 'POST', ':path': '/t.T/Echo', 'content-type': 'application/grpc', 'grpc-timeout': '50m' });
      let status: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => (status = h));
      req.on('trailers', (t) => (status = t));
      req.on('end', () => {
        req.close(); // as a gRPC client does once it has the status
        resolve(status);
      });
      req.on('error', reject);
      req.write(frame('wait'));
      req.resume();
    });
    assert.equal(result['grpc-status'], String(GrpcStatus.DEADLINE_EXCEEDED));
  });

  it('carves responses from pooled slabs and reuses a slab once everything carved from it was written', async () => {
    const r = await call('/t.T/Echo', [frame('a'), frame('big'), frame('b')]);
    assert.deepEqual(messages(r.body).map((m) => m.length), [6, SLAB_BYTES - 200, 6]);
    // Unit: a slab goes back once its last response is written, and only maxFree (4) idle ones are kept.
    const own = new FramePool(1);
    const a = own.take(SLAB_BYTES - 10);
    const b = own.take(100); // does not fit: a second slab
    assert.ok(a.slab !== b.slab); // (assert.ok: a failing equal() would print two 160 KiB buffers)
    own.give(a.slab!);
    assert.equal(own.idle, 1, 'the first slab, no longer current and fully written, is free');
    const c = own.take(SLAB_BYTES - 50); // does not fit in b's slab (100 used): takes the free one
    assert.ok(c.slab === a.slab, 'the free slab is reused');
    own.give(b.slab!);
    own.give(c.slab!);
    assert.ok(own.take(SLAB_BYTES + 1).slab === undefined, 'larger than a slab: a buffer of its own');
  });

  it('closes within its grace period though a peer stopped reading with a ping outstanding', async () => {
    const own = new GrpcServer(new Map(), { keepaliveMs: 20, keepaliveTimeoutMs: 60_000 });
    const ownPort = await own.listen('127.0.0.1', 0);
    const socket = net.connect(ownPort, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Preface and SETTINGS, then nothing is read: the server's ping (and its GOAWAY) stay unanswered.
    socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    socket.pause();
    await new Promise((r) => setTimeout(r, 100)); // a few keepalive ticks: pings go out
    let closed = false;
    const closing = own.close(100).then(() => {
      closed = true;
    });
    await Promise.race([closing, new Promise((r) => setTimeout(r, 2000))]);
    socket.destroy();
    assert.ok(closed, 'the server closed within 2 s');
  });

  it('drops a connection whose peer stops answering pings', async () => {
    // A peer that completes the HTTP/2 preface and then never reads or answers anything.
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    socket.resume();
    const started = performance.now();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.ok(performance.now() - started >= 50, 'not before a ping went unanswered');
  });
});
