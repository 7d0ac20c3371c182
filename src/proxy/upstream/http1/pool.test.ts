import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { dispatchCall, type CallHooks } from '../testing.ts';
import { H1Pool, plainConnector, PoolClosedError, type H1PoolOptions } from './pool.ts';

/** The HTTP/1.1 pool's calls, with its request defaults (a Host field). */
function call(pool: H1Pool, options: Partial<Dispatcher.DispatchOptions>, hooks: CallHooks = {}): ReturnType<typeof dispatchCall> {
  return dispatchCall(pool, options, hooks);
}

interface Server {
  readonly port: number;
  readonly connections: Socket[];
  close(): Promise<void>;
}

/** A TCP server whose replies a test scripts byte for byte. */
async function rawServer(onRequest: (socket: Socket, request: string, index: number) => void): Promise<Server> {
  const connections: Socket[] = [];
  let index = 0;
  const server = net.createServer((socket) => {
    connections.push(socket);
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const request = buffered.slice(0, end + 4);
        buffered = buffered.slice(end + 4);
        onRequest(socket, request, index++);
      }
    });
  });
  return listening(server, connections);
}

async function httpServer(handler: http.RequestListener): Promise<Server> {
  const connections: Socket[] = [];
  const server = http.createServer(handler);
  server.on('connection', (s: Socket) => connections.push(s));
  return listening(server, connections);
}

/** Listens on a free loopback port; `close` cuts every connection the server accepted. */
async function listening(server: net.Server, connections: Socket[]): Promise<Server> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    close: async () => {
      for (const s of connections) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function poolTo(port: number, options: Partial<H1PoolOptions> = {}): H1Pool {
  return new H1Pool({
    authority: `127.0.0.1:${port}`,
    maxConnections: 4,
    idleTimeoutMs: 0,
    connect: plainConnector('127.0.0.1', port),
    ...options,
  });
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}

describe('weft HTTP/1.1 upstream pool', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const track = <T extends Server | H1Pool>(x: T): T => {
    cleanups.push(() => (x instanceof H1Pool ? x.destroy() : x.close()));
    return x;
  };

  it('reuses one keep-alive connection for requests in turn', async () => {
    const s = track(await httpServer((req, res) => res.end(`ok ${req.url}`)));
    const pool = track(poolTo(s.port));
    for (const path of ['/a', '/b', '/c']) {
      const r = await call(pool, { path });
      assert.equal(r.body, `ok ${path}`);
      await until(() => pool.stats.free === 1);
    }
    assert.equal(s.connections.length, 1);
  });

  it('opens at most maxConnections and serves waiting requests first come, first served', async () => {
    const order: number[] = [];
    const held: Socket[] = [];
    const s = track(await rawServer((socket, req) => {
      order.push(Number(/GET \/(\d+)/.exec(req)![1]));
      held.push(socket);
    }));
    const pool = track(poolTo(s.port, { maxConnections: 2 }));
    const calls = [0, 1, 2, 3, 4].map((i) => call(pool, { path: `/${i}` }));
    await until(() => held.length === 2);
    assert.equal(pool.stats.pending, 3);
    while (order.length < 5 || held.length > 0) {
      if (held.length === 0) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      held.shift()!.write(OK);
    }
    const results = await Promise.all(calls);
    assert.deepEqual(results.map((r) => r.body), ['ok', 'ok', 'ok', 'ok', 'ok']);
    assert.deepEqual(order.slice(2), [2, 3, 4]);
    assert.equal(s.connections.length, 2);
  });

  it('closes a connection the upstream will not reuse, and opens another', async () => {
    const s = track(await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok')));
    const pool = track(poolTo(s.port));
    assert.equal((await call(pool, {})).body, 'ok');
    assert.equal((await call(pool, {})).body, 'ok');
    assert.equal(s.connections.length, 2);
    await until(() => pool.stats.connected === 0);
  });

  it('drops an idle connection the upstream closed; the next request does not fail', async () => {
    const s = track(await rawServer((socket) => socket.end(OK)));
    const pool = track(poolTo(s.port));
    assert.equal((await call(pool, {})).body, 'ok');
    await until(() => pool.stats.connected === 0);
    assert.equal((await call(pool, {})).body, 'ok');
  });

  it('never reuses a connection after bytes no request asked for', async () => {
    const s = track(await rawServer((socket) => socket.write(`${OK}HTTP/1.1 200 OK\r\n`)));
    const pool = track(poolTo(s.port));
    assert.equal((await call(pool, {})).body, 'ok');
    await until(() => pool.stats.connected === 0);
    assert.equal((await call(pool, {})).body, 'ok');
    assert.equal(s.connections.length, 2);
  });

  it('an abort in flight closes the connection; the next request gets a new one', async () => {
    const held: Socket[] = [];
    const s = track(await rawServer((socket) => held.push(socket)));
    const pool = track(poolTo(s.port, { maxConnections: 1 }));
    const first = call(pool, { path: '/first' });
    const second = call(pool, { path: '/second' });
    await until(() => held.length === 1);
    assert.equal(second.controller(), undefined, 'not started');
    first.controller()!.abort(new Error('gave up'));
    const r1 = await first;
    assert.equal(r1.error?.message, 'gave up');
    await once(held[0]!, 'close');
    await until(() => held.length === 2);
    held[1]!.write(OK);
    assert.equal((await second).body, 'ok');
  });

  it('a request aborted as it leaves the queue (from onRequestStart) is never sent, and its connection is kept', async () => {
    const seen: string[] = [];
    const s = track(await rawServer((socket, req) => {
      seen.push(req.split(' ')[1]!);
      socket.write(OK);
    }));
    const pool = track(poolTo(s.port));
    const r = await call(pool, { path: '/never' }, { onStart: (c) => c.abort(new Error('not wanted')) });
    assert.equal(r.error?.message, 'not wanted');
    assert.equal((await call(pool, { path: '/next' })).body, 'ok');
    assert.deepEqual(seen, ['/next']);
    assert.equal(s.connections.length, 1);
  });

  it('streams a request body in chunks, or as is when its length is declared', async () => {
    const s = track(await httpServer((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => res.end(`${req.headers['transfer-encoding'] ?? '-'} ${req.headers['content-length'] ?? '-'} ${body}`));
    }));
    const pool = track(poolTo(s.port));
    const chunked = await call(pool, { method: 'POST', body: Readable.from([Buffer.from('ab'), Buffer.from('cde')]) });
    assert.equal(chunked.body, 'chunked - abcde');
    // An empty chunk from the stream is skipped: written, it would be the last-chunk marker.
    const gap = await call(pool, { method: 'POST', body: Readable.from([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')]) });
    assert.equal(gap.body, 'chunked - abcde');
    const declared = await call(pool, { method: 'POST', headers: ['host', 't', 'content-length', '5'], body: Readable.from([Buffer.from('ab'), Buffer.from('cde')]) });
    assert.equal(declared.body, '- 5 abcde');
    const short = await call(pool, { method: 'POST', headers: ['host', 't', 'content-length', '9'], body: Readable.from([Buffer.from('ab')]) });
    assert.match(String(short.error?.message), /request body was 2 bytes, content-length said 9/);
  });

  it('pauses reading while the handler has paused, and resumes where it stopped', async () => {
    const big = 'x'.repeat(1 << 20);
    const s = track(await httpServer((_req, res) => res.end(big)));
    const pool = track(poolTo(s.port));
    let paused: Dispatcher.DispatchController | undefined;
    let atPause = -1;
    const r = call(pool, {}, {
      onData: (c) => {
        if (paused === undefined) {
          paused = c;
          c.pause();
        }
      },
    });
    await until(() => paused !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    atPause = (await Promise.race([r, Promise.resolve(undefined)])) === undefined ? 1 : 0;
    assert.equal(atPause, 1, 'no end while paused');
    paused!.resume();
    const out = await r;
    assert.equal(out.body.length, big.length);
  });

  it('a response paused on its last chunk still frees the connection for the next request', async () => {
    const s = track(await httpServer((req, res) => res.end(`ok ${req.url}`)));
    const pool = track(poolTo(s.port, { maxConnections: 1 }));
    // The router pauses when the client is slow and resumes on 'drain': here the drain never comes.
    const first = await call(pool, { path: '/first' }, { onData: (c) => c.pause() });
    assert.equal(first.body, 'ok /first');
    const second = await call(pool, { path: '/second' });
    assert.equal(second.body, 'ok /second');
    assert.equal(s.connections.length, 1);
  });

  it('hands the socket over on a 101, with the bytes that came after the head', async () => {
    const s = track(await rawServer((socket, req) => {
      assert.match(req, /\r\nconnection: upgrade\r\nupgrade: websocket\r\n/);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nearly');
      socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
    }));
    const pool = track(poolTo(s.port));
    const r = await call(pool, { upgrade: 'websocket' });
    assert.equal(r.upgrade?.status, 101);
    const socket = r.upgrade!.socket;
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.resume();
    await until(() => got === 'early');
    socket.write('hi');
    await until(() => got === 'earlyecho:hi');
    socket.destroy();
    assert.equal(pool.stats.connected, 0, 'the connection left the pool');
  });

  it('an early response (before the body was sent) goes through; the connection is closed', async () => {
    const s = track(await rawServer((socket) => socket.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n')));
    const pool = track(poolTo(s.port));
    const body = new Readable({ read() {} });
    body.push('first');
    const r = await call(pool, { method: 'POST', body });
    assert.equal(r.status, 413);
    await until(() => pool.stats.connected === 0);
    assert.equal(body.destroyed, true);
  });

  it('fails a malformed response with the parser\'s reason and closes the connection', async () => {
    const s = track(await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n')));
    const pool = track(poolTo(s.port));
    const r = await call(pool, {});
    assert.match(String(r.error?.message), /both content-length and transfer-encoding/);
    assert.equal((r.error as { code?: string }).code, 'WEFT_UPSTREAM_PROTOCOL_ERROR');
    await until(() => pool.stats.connected === 0);
  });

  it('a connection closed mid-response fails the request as connection_termination', async () => {
    const s = track(await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc')));
    const pool = track(poolTo(s.port));
    const r = await call(pool, {});
    assert.equal(r.body, 'abc');
    assert.equal((r.error as { code?: string }).code, 'connection_termination');
  });

  it('a request it cannot write reaches the handler as an error (never thrown), naming the header', async () => {
    const pool = track(poolTo(1));
    const r = await call(pool, { headers: ['x-bad', 'a\r\nx-injected: 1'] });
    assert.match(String(r.error?.message), /CR, LF or NUL\) in value of header "x-bad"/);
    assert.equal(pool.stats.connected, 0, 'nothing was dialled');
  });

  it('a failed connect fails the requests waiting for it', async () => {
    const pool = track(new H1Pool({ authority: 'x', maxConnections: 1, idleTimeoutMs: 0, connect: (cb) => setImmediate(() => cb(new Error('refused'), null)) }));
    const results = await Promise.all([call(pool, {}), call(pool, {}), call(pool, {})]);
    assert.deepEqual(results.map((r) => r.error?.message), ['refused', 'refused', 'refused']);
    assert.equal(pool.stats.pending, 0);
  });

  it('close() lets requests finish, then closes; destroy() fails them', async () => {
    const held: Socket[] = [];
    const s = track(await rawServer((socket) => held.push(socket)));
    const pool = poolTo(s.port, { maxConnections: 1 });
    const inFlight = call(pool, {});
    const queued = call(pool, {});
    await until(() => held.length === 1);
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    assert.match(String((await call(pool, {})).error), /PoolClosedError|is closed/);
    held[0]!.write(OK);
    await until(() => held.length === 2);
    assert.equal(closed, false);
    held[1]!.write(OK);
    assert.deepEqual([(await inFlight).body, (await queued).body], ['ok', 'ok']);
    await closing;
    assert.equal(pool.stats.connected, 0);

    const pool2 = poolTo(s.port);
    const doomed = call(pool2, {});
    await until(() => held.length === 3);
    await pool2.destroy();
    assert.ok((await doomed).error instanceof PoolClosedError);
  });

  it('closes connections idle for idleTimeoutMs, and after maxRequestsPerConnection exchanges', async () => {
    const s = track(await httpServer((_req, res) => res.end('ok')));
    const idlePool = track(poolTo(s.port, { idleTimeoutMs: 30 }));
    await call(idlePool, {});
    await until(() => idlePool.stats.connected === 0);
    const limited = track(poolTo(s.port, { maxRequestsPerConnection: 2 }));
    for (let i = 0; i < 3; i++) {
      await call(limited, {});
      await until(() => limited.stats.running === 0);
    }
    assert.equal(s.connections.length, 1 + 2);
  });

  it('closes an idle connection a second before the upstream would (Keep-Alive: timeout=N); N ≤ 1: not reused', async () => {
    const s = track(await rawServer((socket, req) => {
      const n = /GET \/(\d+)/.exec(req)![1];
      socket.write(`HTTP/1.1 200 OK\r\nkeep-alive: timeout=${n}\r\ncontent-length: 2\r\n\r\nok`);
    }));
    const pool = track(poolTo(s.port));
    const started = performance.now();
    assert.equal((await call(pool, { path: '/2' })).body, 'ok');
    await until(() => pool.stats.free === 1);
    while (pool.stats.connected > 0) await new Promise((r) => setTimeout(r, 10));
    assert.ok(performance.now() - started >= 950, 'kept for about a second');
    assert.equal((await call(pool, { path: '/1' })).body, 'ok');
    await until(() => pool.stats.connected === 0);
    assert.equal(s.connections.length, 2);
  });

  it('delivers trailers of a chunked response', async () => {
    const s = track(await httpServer((_req, res) => {
      res.addTrailers({ 'x-checksum': 'abc' });
      res.write('part');
      res.end();
    }));
    const pool = track(poolTo(s.port));
    const r = await call(pool, {});
    assert.equal(r.body, 'part');
    assert.deepEqual(r.trailers, { 'x-checksum': 'abc' });
  });
});
