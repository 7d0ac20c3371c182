/**
 * The ADS client's gRPC stream against grpc-js's server (an independent implementation of the same
 * protocol): messages both ways, statuses from trailers and trailers-only responses with their
 * percent-encoded messages, and each way a call can fail — refused connection, oversized or undecodable
 * response, a server that stops answering (keepalive).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { GrpcStream, formatStatus, type StreamOptions, type StreamStatus } from './grpc-stream.ts';
import { GrpcStatus } from '../../xds/grpc-status.ts';

const identity = (b: Buffer) => b;
const CHAT = '/test.Echo/Chat';

/** A grpc-js server with one bidi method: echoes each message upper-cased; `bye` ends the call with a status. */
async function echoServer(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService({
    Chat: { path: CHAT, requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  }, {
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => {
        const text = m.toString();
        if (text === 'bye') call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: '50% done, é' });
        else if (text === 'big') call.write(Buffer.alloc(1000, 'x'));
        else if (text.startsWith('huge:')) call.write(Buffer.alloc(Number(text.slice(5)), 'h'));
        else call.write(Buffer.from(text.toUpperCase()));
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { server, port };
}

interface Run {
  readonly stream: GrpcStream<string, string>;
  readonly messages: string[];
  readonly status: Promise<StreamStatus>;
}

function open(target: string, overrides: Partial<StreamOptions<string, string>> = {}): Run {
  const messages: string[] = [];
  let resolve!: (s: StreamStatus) => void;
  const status = new Promise<StreamStatus>((r) => (resolve = r));
  const stream = new GrpcStream<string, string>({
    target, path: CHAT, encode: (s) => Buffer.from(s), decode: (b) => b.toString(), maxResponseBytes: 4096,
    keepaliveMs: Infinity, keepaliveTimeoutMs: 1000, userAgent: 'weft-test',
    onMessage: (m) => messages.push(m), onStatus: resolve, ...overrides,
  });
  return { stream, messages, status };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('GrpcStream', () => {
  let server: grpc.Server;
  let target: string;
  before(async () => {
    const s = await echoServer();
    server = s.server;
    target = `127.0.0.1:${s.port}`;
  });
  after(() => server.forceShutdown());

  it('exchanges messages and reports the status the server ends with, its message decoded', async () => {
    const run = open(target);
    for (const m of ['a', 'bc', 'def']) run.stream.write(m);
    await until(() => run.messages.length === 3);
    assert.deepEqual(run.messages, ['A', 'BC', 'DEF']);
    run.stream.write('bye');
    const status = await run.status;
    assert.deepEqual(status, { code: GrpcStatus.FAILED_PRECONDITION, details: '50% done, é' });
    assert.equal(formatStatus(status), 'FAILED_PRECONDITION: 50% done, é');
  });

  it('takes the status of a trailers-only response (a method the server does not have)', async () => {
    const run = open(target, { path: '/test.Echo/Missing' });
    const status = await run.status;
    assert.equal(status.code, GrpcStatus.UNIMPLEMENTED);
    assert.match(status.details, /Missing/);
  });

  it('ends with UNAVAILABLE naming the target when nothing listens there', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const status = await open(`127.0.0.1:${port}`).status;
    assert.equal(status.code, GrpcStatus.UNAVAILABLE);
    assert.match(status.details, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  });

  it('says so when the target is an HTTP/1.1 server rather than gRPC', async () => {
    const h1 = http.createServer((_req, res) => res.end('not grpc'));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    try {
      const status = await open(`127.0.0.1:${(h1.address() as net.AddressInfo).port}`).status;
      assert.equal(status.code, GrpcStatus.UNAVAILABLE);
      assert.match(status.details, /does not speak gRPC over HTTP\/2/);
    } finally {
      h1.close();
    }
  });

  it('ends with RESOURCE_EXHAUSTED for a response over the limit, and INTERNAL for one that does not decode', async () => {
    const big = open(target, { maxResponseBytes: 100 });
    big.stream.write('big');
    assert.deepEqual(await big.status, { code: GrpcStatus.RESOURCE_EXHAUSTED, details: 'response of 1000 bytes exceeds the limit of 100' });
    const bad = open(target, { decode: () => { throw new Error('field 3: wrong wire type'); } });
    bad.stream.write('x');
    assert.deepEqual(await bad.status, { code: GrpcStatus.INTERNAL, details: 'a response could not be decoded: field 3: wrong wire type' });
    assert.deepEqual(bad.messages, []);
  });

  it('receives a response of megabytes (an xDS push of a large mesh) through HTTP/2 flow control', async () => {
    const run = open(target, { maxResponseBytes: 8 * 1024 * 1024, decode: (b) => `${b.length}:${b.every((x) => x === 0x68)}` });
    run.stream.write('huge:5000000');
    run.stream.write('a');
    await until(() => run.messages.length === 2);
    assert.deepEqual(run.messages, ['5000000:true', '1:false']);
    run.stream.cancel();
  });

  it('keeps a quiet call open while the server answers its keepalive pings', async () => {
    let ended: StreamStatus | undefined;
    const run = open(target, { keepaliveMs: 20, keepaliveTimeoutMs: 50 });
    void run.status.then((s) => (ended = s));
    run.stream.write('x');
    await until(() => run.messages.length === 1);
    // Ten keepalive periods with no message either way: each ping must be answered in time.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ended, undefined, `the call ended: ${ended === undefined ? '' : formatStatus(ended)}`);
    run.stream.write('y');
    await until(() => run.messages.length === 2);
    assert.deepEqual(run.messages, ['X', 'Y']);
    run.stream.cancel();
  });

  it('notices a server that stopped answering (keepalive ping unanswered) and ends with UNAVAILABLE', async () => {
    // A relay to the server that, once told to, swallows everything in both directions.
    let blackhole = false;
    const relay = net.createServer((down) => {
      const up = net.connect(Number(target.split(':')[1]), '127.0.0.1');
      down.on('data', (d) => { if (!blackhole) up.write(d); });
      up.on('data', (d) => { if (!blackhole) down.write(d); });
      const end = () => { down.destroy(); up.destroy(); };
      down.on('close', end);
      up.on('close', end);
      down.on('error', end);
      up.on('error', end);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    try {
      const run = open(`127.0.0.1:${(relay.address() as net.AddressInfo).port}`, { keepaliveMs: 50, keepaliveTimeoutMs: 100 });
      run.stream.write('ping-me');
      await until(() => run.messages.length === 1);
      blackhole = true;
      const status = await run.status;
      assert.equal(status.code, GrpcStatus.UNAVAILABLE);
      assert.match(status.details, /keepalive ping .* not answered within 100 ms/);
    } finally {
      relay.close();
    }
  });

  it('calls nothing after cancel', async () => {
    const run = open(target);
    run.stream.write('a');
    await until(() => run.messages.length === 1);
    let called = false;
    void run.status.then(() => (called = true));
    run.stream.cancel();
    run.stream.write('b');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(called, false);
    assert.deepEqual(run.messages, ['A']);
  });
});
