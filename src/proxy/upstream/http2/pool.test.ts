import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { collectGarbage } from '../../../util/collect-garbage.ts';
import { classifyFailure } from '../../http/upstream-attempt.ts';
import { plainConnector, PoolClosedError } from '../http1/pool.ts';
import { InvalidRequestError } from '../http1/request-head.ts';
import { closedPort, dispatchCall, eventually, type CallHooks } from '../testing.ts';
import { H2Pool, type H2PoolOptions } from './pool.ts';

interface H2Server {
  readonly port: number;
  readonly server: http2.Http2Server;
  /** Sessions the server accepted, in order. */
  readonly sessions: http2.ServerHttp2Session[];
  close(): Promise<void>;
}

/** An h2c server answering every stream with `onStream`. */
async function h2Server(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.ServerHttp2Session) => void, settings: http2.Settings = {}): Promise<H2Server> {
  const server = http2.createServer({ settings });
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => {
    sessions.push(s);
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    onStream(stream, headers, stream.session as http2.ServerHttp2Session);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    sessions,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function pool(port: number, options: Partial<H2PoolOptions> = {}): H2Pool {
  const p = new H2Pool({ connect: plainConnector('127.0.0.1', port), authority: `127.0.0.1:${port}`, maxConcurrentStreams: 100, idleTimeoutMs: 0, ...options });
  cleanups.push(() => p.destroy());
  return p;
}

function call(p: H2Pool, options: Partial<Dispatcher.DispatchOptions> = {}, hooks: CallHooks = {}): ReturnType<typeof dispatchCall> {
  return dispatchCall(p, options, hooks);
}

async function server(onStream: Parameters<typeof h2Server>[0], settings?: http2.Settings): Promise<H2Server> {
  const s = await h2Server(onStream, settings);
  cleanups.push(() => s.close());
  return s;
}

describe('HTTP/2 upstream pool', () => {
  it('multiplexes requests on one session with the Host field as :authority and connection fields dropped', async () => {
    const seen: http2.IncomingHttpHeaders[] = [];
    const s = await server((stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200, 'x-path': headers[':path'] as string, 'set-cookie': ['a=1', 'b=2'] });
      stream.end(`ok ${headers[':path']}`);
    });
    const p = pool(s.port);
    const results = await Promise.all([1, 2, 3, 4].map((i) => call(p, { path: `/r${i}`, headers: ['host', 'svc.example', 'connection', 'keep-alive', 'te', 'trailers', 'x-a', '1', 'x-a', '2', 'transfer-encoding', 'chunked'] })));
    for (const [i, r] of results.entries()) {
      assert.equal(r.error, undefined);
      assert.equal(r.status, 200);
      assert.equal(r.body, `ok /r${i + 1}`);
      assert.equal(r.headers!['x-path'], `/r${i + 1}`);
      assert.deepEqual(r.headers!['set-cookie'], ['a=1', 'b=2']);
      assert.equal(r.headers![':status'], undefined, 'pseudo-headers are not response fields');
    }
    assert.equal(s.sessions.length, 1);
    assert.equal(seen[0]![':authority'], 'svc.example');
    assert.equal(seen[0]![':scheme'], 'http');
    assert.equal(seen[0]!['connection'], undefined);
    assert.equal(seen[0]!['transfer-encoding'], undefined);
    assert.equal(seen[0]!['te'], 'trailers');
    assert.equal(seen[0]!['x-a'], '1, 2');
    await eventually(() => p.stats.running === 0);
    assert.deepEqual(p.stats, { connected: 1, free: 1, pending: 0, running: 0 });
  });

  /** A server answering each stream after `delayMs`, recording the most streams it had open at once. */
  async function slowServer(status: number, delayMs: number, settings?: http2.Settings): Promise<H2Server & { peak(): number }> {
    let running = 0;
    let peak = 0;
    const s = await server((stream) => {
      running++;
      peak = Math.max(peak, running);
      setTimeout(() => {
        running--;
        stream.respond({ ':status': status });
        stream.end('x');
      }, delayMs);
    }, settings);
    return Object.assign(s, { peak: () => peak });
  }

  it('queues beyond max_concurrent_streams and serves the queue as streams finish', async () => {
    const s = await slowServer(200, 20);
    const p = pool(s.port, { maxConcurrentStreams: 2 });
    const results = await Promise.all(Array.from({ length: 7 }, () => call(p)));
    assert.ok(results.every((r) => r.status === 200 && r.body === 'x'));
    assert.equal(s.peak(), 2);
    assert.equal(s.sessions.length, 1);
  });

  it('honours the peer\'s SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const s = await slowServer(202, 15, { maxConcurrentStreams: 1 });
    const p = pool(s.port);
    await call(p); // the peer's settings are known from here on
    const results = await Promise.all(Array.from({ length: 4 }, () => call(p)));
    assert.ok(results.every((r) => r.status === 202 && r.error === undefined), JSON.stringify(results.map((r) => r.error?.message)));
    assert.equal(s.peak(), 1);
  });

  it('streams a request body with backpressure and delivers trailers (gRPC)', async () => {
    const s = await server((stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-bytes': String(Buffer.concat(chunks).length) }));
        stream.end(Buffer.concat(chunks).subarray(0, 16));
      });
    });
    const p = pool(s.port);
    const big = Buffer.alloc(300_000, 7); // beyond the 64 KiB stream window: the body must wait for WINDOW_UPDATEs
    const r = await call(p, { method: 'POST', path: '/pkg.Svc/M', body: Readable.from([big.subarray(0, 100_000), big.subarray(100_000)]), headers: ['content-type', 'application/grpc', 'te', 'trailers'] });
    assert.equal(r.error, undefined);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 16);
    assert.equal(r.trailers!['grpc-status'], '0');
    assert.equal(r.trailers!['x-bytes'], '300000');
    const small = await call(p, { method: 'PUT', body: 'hello' });
    assert.equal(small.status, 200);
    assert.equal(small.body, 'hello');
  });

  it('pauses and resumes the response body for the handler', async () => {
    const s = await server((stream) => {
      stream.respond({ ':status': 200 });
      stream.end(Buffer.alloc(200_000, 1));
    });
    const p = pool(s.port);
    let paused = false;
    let chunksWhilePaused = 0;
    const r = await call(p, {}, {
      onData: (c) => {
        if (paused) chunksWhilePaused++;
        if (!paused && !c.paused) {
          paused = true;
          c.pause();
          setTimeout(() => {
            paused = false;
            c.resume();
          }, 50);
        }
      },
    });
    assert.equal(r.body.length, 200_000);
    assert.ok(chunksWhilePaused <= 1, `${chunksWhilePaused} chunks arrived while paused`);
  });

  it('reports a reset stream as a reset, a refused one so that it can be retried, a connection lost mid-response as an error', async () => {
    const s = await server((stream, headers, session) => {
      if (headers[':path'] === '/refuse') stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      else if (headers[':path'] === '/midway') {
        stream.respond({ ':status': 200 });
        stream.write('part');
        setTimeout(() => session.destroy(), 10);
      } else stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
    const p = pool(s.port);
    const refused = await call(p, { path: '/refuse' });
    assert.ok(refused.error !== undefined);
    assert.equal(classifyFailure(refused.error, true), 'refused-stream', refused.error.message);
    const reset = await call(p, { path: '/reset' });
    assert.equal(classifyFailure(reset.error!, true), 'reset', reset.error!.message);
    assert.match(reset.error!.message, /INTERNAL_ERROR/);
    assert.equal(s.sessions.length, 1, 'the session survives stream resets');
    const midway = await call(p, { path: '/midway' });
    assert.equal(midway.status, 200);
    assert.equal(midway.body, 'part');
    assert.ok(midway.error !== undefined, 'a cut response is not complete');
    assert.equal((await call(p, { path: '/refuse' })).error !== undefined, true);
    assert.equal(s.sessions.length, 2, 'a new session replaces the lost one');
  });

  it('treats a response declaring a length it ends without as malformed, unless it has no content by definition (HEAD, 304)', async () => {
    const s = await server((stream, headers) => {
      stream.respond({ ':status': headers[':path'] === '/304' ? 304 : 200, 'content-length': '5' }, { endStream: true });
    });
    const p = pool(s.port);
    const bad = await call(p, { path: '/x' });
    assert.match(String(bad.error?.message), /malformed upstream response: content-length 5 on a response with no body/);
    const head = await call(p, { path: '/x', method: 'HEAD' });
    assert.equal(head.error, undefined);
    assert.equal(head.status, 200);
    const notModified = await call(p, { path: '/304' });
    assert.equal(notModified.error, undefined);
    assert.equal(notModified.status, 304);
  });

  it('fails waiting requests with the connect error, before they started', async () => {
    const port = await closedPort();
    const p = pool(port);
    let started = 0;
    const results = await Promise.all([1, 2, 3].map(() => call(p, {}, { onStart: () => started++ })));
    for (const r of results) assert.equal((r.error as { code?: string }).code, 'ECONNREFUSED');
    assert.equal(started, 0);
    assert.equal(classifyFailure(results[0]!.error!, false), 'connect-failure');
  });

  it('refuses what HTTP/2 cannot carry, naming it, without touching the session', async () => {
    const s = await server((stream) => {
      stream.respond({ ':status': 200 });
      stream.end();
    });
    const p = pool(s.port);
    const bad = await call(p, { headers: ['x-evil', 'a\r\nb: c'] });
    assert.ok(bad.error instanceof InvalidRequestError);
    assert.match(bad.error.message, /x-evil/);
    const upgrade = await call(p, { upgrade: 'websocket' });
    assert.match(upgrade.error!.message, /upgrade to websocket is not supported on an HTTP\/2 upstream/);
    assert.equal((await call(p)).status, 200);
  });

  it('cancels the stream when the handler aborts', async () => {
    let cancelled: number | undefined;
    const s = await server((stream) => {
      stream.respond({ ':status': 200 });
      stream.write('first');
      stream.on('close', () => (cancelled = stream.rstCode));
    });
    const counter = () => ({ value: 0 });
    const counters = { rxReset: counter(), txReset: counter(), rxMessagingError: counter(), goawaySent: counter(), inboundEmptyFramesFlood: counter(), outboundControlFlood: counter(), headerOverflow: counter(), prematureResets: counter() };
    const p = pool(s.port, { counters });
    const r = await call(p, {}, { onData: (c) => c.abort(new Error('gave up')) });
    assert.equal(r.error!.message, 'gave up');
    await eventually(() => cancelled !== undefined);
    assert.equal(cancelled, http2.constants.NGHTTP2_CANCEL);
    assert.equal(counters.txReset.value, 1, 'the cluster counts the RST_STREAM it sent');
  });

  it('opens a new session after max_requests_per_connection, a GOAWAY, or the idle timeout', async () => {
    const s = await server((stream, headers, session) => {
      stream.respond({ ':status': 200 });
      stream.end();
      if (headers[':path'] === '/goaway') session.goaway();
    });
    const p = pool(s.port, { maxRequestsPerConnection: 2, idleTimeoutMs: 100 });
    await call(p);
    await call(p);
    assert.equal((await call(p)).status, 200);
    assert.equal(s.sessions.length, 2, 'the first session served its two requests');
    await call(p, { path: '/goaway' });
    await eventually(() => p.stats.connected === 0 || s.sessions[1]!.closed);
    assert.equal((await call(p)).status, 200);
    assert.equal(s.sessions.length, 3, 'a new session after GOAWAY');
    await eventually(() => p.stats.connected === 0, 3000);
    assert.equal(s.sessions[2]!.closed || s.sessions[2]!.destroyed, true, 'the idle session closed');
  });

  it('leaves nothing of a finished exchange on its open session', async () => {
    const s = await server((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('done'); // before a request body ends, too
    });
    const p = pool(s.port);
    const handlers: WeakRef<Dispatcher.DispatchHandler>[] = [];
    const send = (options: Partial<Dispatcher.DispatchOptions>) => new Promise<void>((resolve) => {
      const handler: Dispatcher.DispatchHandler = { onResponseEnd: () => resolve(), onResponseError: () => resolve() };
      handlers.push(new WeakRef(handler));
      p.dispatch({ path: '/', method: 'GET', headers: ['host', 'test'], ...options } as Dispatcher.DispatchOptions, handler);
    });
    await send({});
    await send({ method: 'POST', body: new Readable({ read() {} }) }); // a body that never ends: dropped
    await eventually(() => p.stats.running === 0);
    await collectGarbage();
    assert.equal(p.stats.connected, 1, 'the session is still open');
    assert.deepEqual(handlers.map((h) => h.deref()), [undefined, undefined], 'no handler is reachable from the session');
  });

  it('close() lets running requests finish and refuses new ones', async () => {
    const s = await server((stream) => {
      setTimeout(() => {
        stream.respond({ ':status': 200 });
        stream.end('late');
      }, 30);
    });
    const p = pool(s.port);
    const running = call(p);
    await eventually(() => p.stats.running === 1);
    const closed = p.close();
    const refused = await call(p);
    assert.ok(refused.error instanceof PoolClosedError);
    assert.equal((await running).body, 'late');
    await closed;
    assert.equal(p.stats.connected, 0);
  });
});
