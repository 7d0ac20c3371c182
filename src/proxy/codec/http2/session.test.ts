import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ByteWriter } from './byte-writer.ts';
import { CLIENT_PREFACE, ErrorCode, FrameReader, FrameType, writeFrameHeader, writeRstStream, writeSettings, writeWindowUpdate } from './frames.ts';
import { HpackEncoder } from './hpack.ts';
import { eventually } from '../../upstream/testing.ts';
import { DEFAULT_SETTINGS, H2Session, type SessionCounters, type SessionSettings } from './session.ts';
import type { H2Stream, StreamListener } from './stream.ts';

/** A server stream's life as the test app sees it. */
interface Seen { fields: string[]; body: Buffer[]; trailers: string[] | undefined; closed: Promise<[number, boolean]> }

/**
 * A test server: each connection is an H2Session; each request is echoed — status 200, `x-method` and
 * `x-path` from the head, the request body back, and the request's trailers as response trailers (plus
 * `x-echo-trailer: yes`) when it sent any.
 */
async function startServer(settings: Partial<SessionSettings> = {}): Promise<{ port: number; seen: Seen[]; sessions: H2Session[]; counters: SessionCounters; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const sessions: H2Session[] = [];
  const counter = () => ({ value: 0 });
  const counters: SessionCounters = { rxReset: counter(), txReset: counter(), rxMessagingError: counter(), goawaySent: counter(), inboundEmptyFramesFlood: counter(), outboundControlFlood: counter(), headerOverflow: counter(), prematureResets: counter() };
  const server = net.createServer((socket) => {
    const session = new H2Session(socket, 'server', { ...DEFAULT_SETTINGS, ...settings }, {
      stream(stream, fields, endStream) {
        let closed!: (v: [number, boolean]) => void;
        const s: Seen = { fields, body: [], trailers: undefined, closed: new Promise((r) => (closed = r)) };
        seen.push(s);
        const field = (name: string): string => fields[fields.indexOf(name) + 1] ?? '';
        const respond = (): void => {
          const body = Buffer.concat(s.body);
          if (field(':path') === '/reset') {
            stream.reset(ErrorCode.ENHANCE_YOUR_CALM);
            return;
          }
          if (field(':path') === '/hang') return;
          stream.sendHeaders([':status', '200', 'x-method', field(':method'), 'x-path', field(':path'), 'content-length', String(body.length)], false);
          let offset = 0;
          const pump = (): void => {
            while (offset < body.length) {
              const piece = body.subarray(offset, offset + 100_000);
              offset += piece.length;
              if (!stream.write(piece)) return;
            }
            stream.end(s.trailers === undefined ? undefined : [...s.trailers, 'x-echo-trailer', 'yes']);
          };
          listener.streamDrain = pump;
          pump();
        };
        const listener: StreamListener = {
          streamHeaders(trailers) {
            s.trailers = trailers;
            respond();
          },
          streamData(chunk, end) {
            s.body.push(Buffer.from(chunk));
            if (end) respond();
          },
          streamDrain() {},
          streamClose(code, remote) {
            closed([code, remote]);
          },
        };
        stream.listener = listener;
        if (endStream) respond();
      },
      goaway() {},
      close() {},
    }, undefined, counters);
    sessions.push(session);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    sessions,
    counters,
    close: () => new Promise<void>((resolve) => { for (const s of sessions) s.destroy(); server.close(() => resolve()); }),
  };
}

interface Reply { status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }

function request(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, trailers?: http2.OutgoingHttpHeaders): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: body === undefined && trailers === undefined, waitForTrailers: trailers !== undefined });
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    let head: http2.IncomingHttpHeaders = {};
    let tail: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (head = h));
    req.on('trailers', (t) => (tail = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), trailers: tail }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else if (trailers !== undefined) req.end();
  });
}

describe('H2Session as a server, with node:http2 as the client', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let client: http2.ClientHttp2Session;
  before(async () => {
    // Small windows, so bodies cross many WINDOW_UPDATEs.
    server = await startServer({ initialWindowSize: 65_535, connectionWindowSize: 65_535 });
    client = http2.connect(`http://127.0.0.1:${server.port}`);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it('answers many requests on one connection, the HPACK tables in step throughout', async () => {
    for (let i = 0; i < 300; i++) {
      const reply = await request(client, { ':path': `/item/${i % 7}`, 'x-request-id': `id-${i}`, 'x-round': String(i % 3), cookie: `a=${i % 5}`, 'user-agent': 'test' });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-path'], `/item/${i % 7}`);
    }
    const last = server.seen.at(-1)!.fields;
    const pairs = new Map(Array.from({ length: last.length / 2 }, (_, i) => [last[2 * i]!, last[2 * i + 1]!]));
    assert.equal(pairs.get(':method'), 'GET');
    assert.equal(pairs.get(':authority'), `127.0.0.1:${server.port}`);
    assert.equal(pairs.get(':path'), '/item/5');
    assert.equal(last[last.indexOf('x-request-id') + 1], 'id-299');
  });

  it('carries large bodies both ways through flow control (windows of 64 KiB)', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    for (let i = 0; i < body.length; i += 4096) body[i] = i & 0xff;
    const reply = await request(client, { ':method': 'POST', ':path': '/upload' }, body);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, body.length);
    assert.ok(reply.body.equals(body));
  });

  it('runs 200 concurrent streams', async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => request(client, { ':method': 'POST', ':path': `/c/${i}` }, Buffer.from(`body ${i}`))));
    for (const [i, r] of replies.entries()) assert.equal(r.body.toString(), `body ${i}`);
  });

  it('receives and sends trailers', async () => {
    const reply = await request(client, { ':method': 'POST', ':path': '/grpc', 'content-type': 'application/grpc', te: 'trailers' }, undefined, { 'grpc-status': '0', 'grpc-message': 'fine' });
    assert.equal(reply.status, 200);
    assert.equal(reply.trailers['grpc-status'], '0');
    assert.equal(reply.trailers['x-echo-trailer'], 'yes');
    const seen = server.seen.at(-1)!;
    assert.deepEqual(seen.trailers, ['grpc-status', '0', 'grpc-message', 'fine']);
    assert.deepEqual(await seen.closed, [ErrorCode.NO_ERROR, false]);
  });

  it('hears a client reset as a remote close, and resets a stream the client sees', async () => {
    const req = client.request({ ':path': '/hang' });
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (server.seen.at(-1)?.fields.includes('/hang')) { clearInterval(t); resolve(); } }, 2); });
    req.close(http2.constants.NGHTTP2_CANCEL);
    assert.deepEqual(await server.seen.at(-1)!.closed, [ErrorCode.CANCEL, true]);
    const reset = client.request({ ':path': '/reset' });
    reset.resume();
    const [err] = await once(reset, 'error') as [Error & { code: string }];
    assert.match(err.message, /NGHTTP2_ENHANCE_YOUR_CALM/);
    assert.deepEqual(await server.seen.at(-1)!.closed, [ErrorCode.ENHANCE_YOUR_CALM, false]);
  });

  it('shuts down gracefully: GOAWAY, the open stream completes, then the connection closes', async () => {
    const c2 = http2.connect(`http://127.0.0.1:${server.port}`);
    const reply = request(c2, { ':method': 'POST', ':path': '/slow' }, Buffer.alloc(200_000, 1));
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (server.seen.at(-1)?.fields.includes('/slow')) { clearInterval(t); resolve(); } }, 2); });
    const session = server.sessions.at(-1)!;
    const goaway = once(c2, 'goaway');
    session.goaway();
    assert.equal((await reply).body.length, 200_000);
    await goaway;
    await once(c2, 'close');
    assert.equal(session.closed, true);
  });
});

/** Raw frames to a server session, and the GOAWAY (or nothing) it answers with. */
async function rawExchange(port: number, frames: (w: ByteWriter, hpack: HpackEncoder) => void, preface = CLIENT_PREFACE): Promise<{ goaway: number | undefined; reason: string; rst: number[] }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const w = new ByteWriter();
  w.ensure(preface.length);
  preface.copy(w.buf, 0);
  w.pos = preface.length;
  writeSettings(w, new Map());
  frames(w, new HpackEncoder());
  socket.write(w.take());
  let goaway: number | undefined;
  let reason = '';
  const rst: number[] = [];
  const reader = new FrameReader({
    frame(type, _flags, _stream, payload) {
      if (type === FrameType.GOAWAY) {
        goaway = payload.readUInt32BE(4);
        reason = payload.toString('latin1', 8);
      }
      if (type === FrameType.RST_STREAM) rst.push(payload.readUInt32BE(0));
    },
  });
  reader.maxFrameSize = 1 << 24;
  socket.on('data', (c: Buffer) => reader.push(c));
  socket.on('error', () => {});
  await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, 300))]);
  socket.destroy();
  return { goaway, reason, rst };
}

describe('H2Session protocol errors', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  const headers = (w: ByteWriter, hpack: HpackEncoder, streamId: number, fields: string[], flags = 0x5): void => {
    const block = new ByteWriter();
    for (let i = 0; i < fields.length; i += 2) hpack.field(fields[i]!, fields[i + 1]!, block);
    writeFrameHeader(w, block.pos, FrameType.HEADERS, flags, streamId);
    w.ensure(block.pos);
    block.buf.copy(w.buf, w.pos, 0, block.pos);
    w.pos += block.pos;
  };
  const GET = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x'];

  it('ends the connection with the error code that fits, naming the cause in GOAWAY', async () => {
    const cases: [string, (w: ByteWriter, h: HpackEncoder) => void, number, RegExp][] = [
      ['DATA on stream 0', (w) => writeFrameHeader(w, 0, FrameType.DATA, 0, 0), ErrorCode.PROTOCOL_ERROR, /DATA on stream 0/],
      ['undecodable header block', (w) => { writeFrameHeader(w, 1, FrameType.HEADERS, 0x5, 1); w.byte(0x80); }, ErrorCode.COMPRESSION_ERROR, /index 0/],
      ['window overflow', (w) => { writeWindowUpdate(w, 0, 0x7fffffff); }, ErrorCode.FLOW_CONTROL_ERROR, /above 2\^31-1/],
      ['frame above SETTINGS_MAX_FRAME_SIZE', (w) => { writeFrameHeader(w, 20_000, FrameType.DATA, 0, 1); w.ensure(20_000); w.pos += 20_000; }, ErrorCode.FRAME_SIZE_ERROR, /exceeds SETTINGS_MAX_FRAME_SIZE/],
      ['stream ids going down', (w, h) => { headers(w, h, 5, GET); headers(w, h, 3, GET); }, ErrorCode.STREAM_CLOSED, /HEADERS on closed stream 3/],
      ['frame between HEADERS and CONTINUATION', (w, h) => { headers(w, h, 1, GET, 0x1); writeWindowUpdate(w, 0, 1); }, ErrorCode.PROTOCOL_ERROR, /expected CONTINUATION/],
    ];
    for (const [title, frames, code, reason] of cases) {
      const result = await rawExchange(server.port, frames);
      assert.equal(result.goaway, code, title);
      assert.match(result.reason, reason, title);
    }
  });

  it('ends a connection that floods: rapid reset, empty DATA frames', async () => {
    const HANG = [':method', 'GET', ':scheme', 'http', ':path', '/hang', ':authority', 'x'];
    const rapid = await rawExchange(server.port, (w, h) => {
      for (let id = 1; id < 1040; id += 2) headers(w, h, id, HANG);
      for (let id = 1; id < 1040; id += 2) writeRstStream(w, id, ErrorCode.CANCEL);
    });
    assert.equal(rapid.goaway, ErrorCode.ENHANCE_YOUR_CALM);
    assert.match(rapid.reason, /the client reset 260 of its 520 streams before their response completed/);
    assert.equal(server.counters.prematureResets.value, 1);
    const empty = await rawExchange(server.port, (w, h) => {
      headers(w, h, 1, HANG, 0x4);
      for (let i = 0; i < 101; i++) writeFrameHeader(w, 0, FrameType.DATA, 0, 1);
    });
    assert.equal(empty.goaway, ErrorCode.ENHANCE_YOUR_CALM);
    assert.match(empty.reason, /more than 100 empty DATA frames in a row/);
    assert.equal(server.counters.inboundEmptyFramesFlood.value, 1);
    // Cancelling a few streams is normal: the connection stays.
    const few = await rawExchange(server.port, (w, h) => {
      for (let id = 1; id < 20; id += 2) headers(w, h, id, HANG);
      for (let id = 1; id < 20; id += 2) writeRstStream(w, id, ErrorCode.CANCEL);
    });
    assert.equal(few.goaway, undefined);
  });

  it('ends a connection whose header block comes in more than 8 CONTINUATION frames; 8 are fine', async () => {
    const block = (h: HpackEncoder): Buffer => {
      const b = new ByteWriter();
      for (let i = 0; i < GET.length; i += 2) h.field(GET[i]!, GET[i + 1]!, b);
      return b.buf.subarray(0, b.pos);
    };
    const split = (parts: number) => (w: ByteWriter, h: HpackEncoder): void => {
      const whole = block(h);
      // HEADERS with the first byte, then CONTINUATION frames, the last with the rest and END_HEADERS.
      writeFrameHeader(w, 1, FrameType.HEADERS, 0x1, 1);
      w.byte(whole[0]!);
      for (let i = 1; i < parts; i++) writeFrameHeader(w, 0, FrameType.CONTINUATION, 0, 1);
      writeFrameHeader(w, whole.length - 1, FrameType.CONTINUATION, 0x4, 1);
      w.ensure(whole.length - 1);
      whole.copy(w.buf, w.pos, 1);
      w.pos += whole.length - 1;
    };
    const overflows = server.counters.headerOverflow.value;
    const fine = await rawExchange(server.port, split(8));
    assert.equal(fine.goaway, undefined);
    const flood = await rawExchange(server.port, split(9));
    assert.equal(flood.goaway, ErrorCode.ENHANCE_YOUR_CALM);
    assert.match(flood.reason, /header block of stream 1 in more than 8 CONTINUATION frames/);
    assert.equal(server.counters.headerOverflow.value, overflows + 1);
  });

  it('ends a connection whose SETTINGS frame has more than 32 entries', async () => {
    const result = await rawExchange(server.port, (w) => writeSettings(w, new Map(Array.from({ length: 33 }, (_, i) => [0x100 + i, 1]))));
    assert.equal(result.goaway, ErrorCode.ENHANCE_YOUR_CALM);
    assert.match(result.reason, /SETTINGS with 33 entries, more than 32/);
  });

  it('ends a connection that keeps causing stream errors while it reads none of the resets', async () => {
    const floods = server.counters.outboundControlFlood.value;
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.pause(); // reads nothing: the resets pile up in the kernel's buffers, then in the session's
    await once(socket, 'connect');
    const w = new ByteWriter();
    w.ensure(CLIENT_PREFACE.length);
    CLIENT_PREFACE.copy(w.buf, 0);
    w.pos = CLIENT_PREFACE.length;
    writeSettings(w, new Map());
    // PRIORITY frames of the wrong length: a stream error each, answered with RST_STREAM (13 octets).
    for (let i = 0; i < 1_500_000; i++) {
      writeFrameHeader(w, 4, FrameType.PRIORITY, 0, 1 + 2 * (i % 1000));
      w.ensure(4);
      w.pos += 4;
    }
    socket.write(w.take());
    await eventually(() => server.counters.outboundControlFlood.value > floods, 20_000);
    socket.destroy();
  });

  it('ends the connection on a bad preface', async () => {
    const result = await rawExchange(server.port, () => {}, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.equal(result.goaway, ErrorCode.PROTOCOL_ERROR);
    assert.match(result.reason, /preface/);
  });
});

describe('H2Session as a client, with node:http2 as the server', () => {
  it('sends requests with bodies and trailers, and reads responses with trailers', async () => {
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        stream.respond({ ':status': 201, 'x-path': headers[':path'] }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.concat(chunks));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    const session = new H2Session(socket, 'client', { ...DEFAULT_SETTINGS, initialWindowSize: 65_535 }, { stream() {}, goaway() {}, close() {} });
    const exchange = (path: string, body: Buffer): Promise<{ head: string[]; body: Buffer; trailers: string[] }> => new Promise((resolve, reject) => {
      let head: string[] = [];
      let trailers: string[] = [];
      const chunks: Buffer[] = [];
      const stream: H2Stream = session.request([':method', 'POST', ':scheme', 'http', ':path', path, ':authority', 'test'], false, {
        streamHeaders(fields, end) {
          if (head.length === 0) head = fields;
          else trailers = fields;
          if (end) resolve({ head, body: Buffer.concat(chunks), trailers });
        },
        streamData(chunk, end) {
          chunks.push(Buffer.from(chunk));
          if (end) resolve({ head, body: Buffer.concat(chunks), trailers });
        },
        streamDrain() {},
        streamClose(code) {
          if (code !== ErrorCode.NO_ERROR) reject(new Error(`stream closed with ${code}`));
        },
      });
      stream.write(body);
      stream.end(['x-client-trailer', '1']);
    });
    const replies = await Promise.all([exchange('/a', Buffer.alloc(300_000, 3)), exchange('/b', Buffer.from('small'))]);
    assert.deepEqual(replies[0]!.head.slice(0, 4), [':status', '201', 'x-path', '/a']);
    assert.equal(replies[0]!.body.length, 300_000);
    assert.equal(replies[1]!.body.toString(), 'small');
    assert.deepEqual(replies[1]!.trailers, ['grpc-status', '0']);
    session.destroy();
    server.close();
  });

  it('pings the server and hears each ACK; a ping still unanswered when the session ends is told so', async () => {
    const start = async (server: net.Server): Promise<H2Session> => {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
      await once(socket, 'connect');
      return new H2Session(socket, 'client', DEFAULT_SETTINGS, { stream() {}, goaway() {}, close() {} });
    };
    const ping = (session: H2Session) => new Promise<boolean>((resolve) => session.ping(resolve));
    const h2 = http2.createServer();
    const answering = await start(h2);
    assert.deepEqual(await Promise.all([ping(answering), ping(answering), ping(answering)]), [true, true, true]);
    answering.destroy();
    h2.close();
    // A server that sends its SETTINGS and then nothing: the ping waits until the session is destroyed.
    const silent = net.createServer((s) => s.resume().write(Buffer.from([0, 0, 0, FrameType.SETTINGS, 0, 0, 0, 0, 0])));
    const session = await start(silent);
    const late = ping(session);
    setTimeout(() => session.destroy(), 20);
    assert.equal(await late, false);
    assert.equal(await ping(session), false, 'a closed session answers at once');
    silent.close();
  });
});
