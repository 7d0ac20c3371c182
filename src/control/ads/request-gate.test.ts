import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { FramePool } from './frame-pool.ts';
import { GrpcCall } from './grpc-call.ts';
import { GrpcServer } from './grpc-server.ts';
import { RequestGate, type HeldRequests } from './request-gate.ts';
import { frameMessage } from '../../xds/grpc-frames.ts';

/** Polls `cond` once per event-loop turn until it holds (the test's own timeout bounds it). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

describe('RequestGate', { timeout: 10_000 }, () => {
  const recorder = (log: string[], name: string): HeldRequests => ({ release: () => log.push(name) });

  it('hands streams back in the order they first held, once, at the turn after the fan-out is over', async () => {
    const gate = new RequestGate(60_000, () => true);
    const log: string[] = [];
    assert.equal(gate.shut, false);
    gate.shutNow();
    gate.hold(recorder(log, 'a'));
    gate.hold(recorder(log, 'b'));
    assert.equal(gate.holding, 2);
    gate.open();
    assert.equal(gate.shut, false);
    assert.deepEqual(log, [], "the fan-out's last writes leave first");
    await until(() => log.length > 0);
    assert.deepEqual(log, ['a', 'b']);
    gate.open();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['a', 'b'], 'released once');
  });

  it('releases what waited maxHoldMs while the fan-out goes on, and stays shut', async () => {
    const gate = new RequestGate(20, () => true);
    const log: string[] = [];
    gate.shutNow();
    const t0 = performance.now();
    gate.hold(recorder(log, 'a'));
    await until(() => log.length > 0);
    assert.ok(performance.now() - t0 >= 19, 'not before maxHoldMs');
    assert.deepEqual(log, ['a']);
    assert.equal(gate.shut, true);
    assert.equal(gate.holding, 0);
    gate.hold(recorder(log, 'b'));
    await until(() => log.length > 1);
    assert.deepEqual(log, ['a', 'b'], 'a later hold gets its own deadline');
  });

  it('opens after maxHoldMs when no fan-out came (a push expected, and nothing to push)', async () => {
    const gate = new RequestGate(20, () => false);
    const log: string[] = [];
    gate.shutNow();
    gate.hold(recorder(log, 'a'));
    await until(() => log.length > 0);
    assert.equal(gate.shut, false);
  });
});

describe('GrpcCall behind a shut gate', { timeout: 10_000 }, () => {
  const gate = new RequestGate(60_000, () => true);
  const received: { text: string; at: number }[] = [];
  /** Per call, in order: the requests handed over and '<end>' for the client's half-close. */
  const calls: string[][] = [];
  let server: GrpcServer;
  let client: http2.ClientHttp2Session;

  before(async () => {
    server = new GrpcServer(new Map([['/t.T/Echo', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      const call = new GrpcCall(stream, headers, { decode: (b) => b.toString(), messageName: 'EchoRequest', maxRequestBytes: 64, pool: new FramePool(4), gate });
      const log: string[] = [];
      calls.push(log);
      call.start({
        message: (text, at) => {
          received.push({ text, at });
          log.push(text);
          // A stream's first request is answered (as ADS answers a subscription).
          if (text.startsWith('hello')) call.write({ length: 2, writeTo: (out, offset) => out.write('hi', offset) });
        },
        halfClosed: () => {
          log.push('<end>');
          call.end();
        },
        closed: () => {},
        drain: () => {},
        written: () => {},
      });
    }]]));
    const port = await server.listen('127.0.0.1', 0);
    client = http2.connect(`http://127.0.0.1:${port}`);
  });
  after(async () => {
    client.close();
    await server.close(100);
  });

  const open = () => {
    const req = client.request({ ':method': 'POST', ':path': '/t.T/Echo', 'content-type': 'application/grpc', te: 'trailers' });
    req.on('error', () => {}); // the streams a test leaves open are reset when the server closes
    return req;
  };

  /** A stream that sent `hello` and got its answer. */
  async function answered(hello: string): Promise<http2.ClientHttp2Stream> {
    const req = open();
    const reply = new Promise((resolve) => req.once('data', resolve));
    req.on('data', () => {});
    req.write(frameMessage(Buffer.from(hello)));
    await reply;
    return req;
  }

  it('holds the first requests of a stream it has not answered yet (a proxy connecting) until it opens', async () => {
    gate.shutNow();
    const req = open();
    const reply = new Promise((resolve) => req.once('data', resolve));
    req.on('data', () => {});
    req.write(frameMessage(Buffer.from('hello-0')));
    await until(() => gate.holding === 1);
    assert.deepEqual(calls.at(-1), [], 'nothing is handed over while the gate is shut');
    gate.open();
    await reply;
    assert.deepEqual(calls.at(-1), ['hello-0']);
    req.close();
  });

  it('holds requests undecoded while shut and hands them over in order, stamped with their arrival, when it opens', async () => {
    const req = await answered('hello-1');
    const other = await answered('hello-2');
    received.length = 0;
    gate.shutNow();
    const sentAt = performance.now();
    req.write(Buffer.concat([frameMessage(Buffer.from('a')), frameMessage(Buffer.from('b'))]));
    await until(() => gate.holding === 1);
    req.write(frameMessage(Buffer.from('c')));
    // The second stream of the same connection: once its request is held, 'c' (sent before it) has arrived too.
    other.write(frameMessage(Buffer.from('z')));
    await until(() => gate.holding === 2);
    assert.equal(received.length, 0, 'nothing is handed over while the gate is shut');
    const openedAt = performance.now();
    gate.open();
    await until(() => received.length === 4);
    assert.deepEqual(received.map((r) => r.text), ['a', 'b', 'c', 'z'], "'c' waits behind its stream's earlier requests");
    for (const r of received) assert.ok(r.at >= sentAt && r.at < openedAt, `arrival time ${r.at} is when the bytes came, before ${openedAt}`);
    other.close();
    req.close();
  });

  it('hands held requests over before the client half-close', async () => {
    const req = await answered('hello-3');
    gate.shutNow();
    req.end(Buffer.concat([frameMessage(Buffer.from('x')), frameMessage(Buffer.from('y'))]));
    const mine = () => calls.find((log) => log[0] === 'hello-3' && log.includes('<end>'));
    await until(() => mine() !== undefined);
    assert.deepEqual(mine(), ['hello-3', 'x', 'y', '<end>']);
    gate.open();
  });
});
