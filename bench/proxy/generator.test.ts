/**
 * The generator keeps its rate and corrects for coordinated omission: against a server that stalls one
 * request for 300 ms on a single connection, the requests scheduled during the stall count the time they
 * waited (corrected p99 ≥ 200 ms) while their service time stays short; a bad body counts as an error.
 * Its lean HTTP/1.1 connection reads replies however the bytes arrive, reports what was wrong with a bad
 * one, and reconnects after the server closed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { closedLoop, openLoop, type Target } from './generator.ts';
import { H1ClientConnection } from './h1-client.ts';

describe('load generator', () => {
  let server: http.Server;
  let target: Target;
  let n = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      const body = Buffer.alloc(req.url === '/short' ? 10 : 100, 'x');
      if (req.url === '/stall' && ++n === 50) setTimeout(() => res.end(body), 300);
      else res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    target = { host: '127.0.0.1', port, path: '/stall', hostHeader: `127.0.0.1:${port}`, expectBytes: 100 };
  });
  after(() => server.close());

  it('holds the rate and counts waiting behind a stall from the scheduled time', async () => {
    let measuring = false;
    const r = await openLoop({ ...target, rate: 200, connections: 1, warmupMs: 100, durationMs: 1000, drainMs: 2000 }, () => (measuring = true));
    assert.ok(measuring);
    assert.equal(r.errors, 0);
    assert.ok(Math.abs(r.completed - 200) <= 2, `completed ${r.completed}`);
    assert.ok(r.corrected.p99 >= 200_000, `corrected p99 ${r.corrected.p99} µs`);
    assert.ok(r.corrected.p90 > r.uncorrected.p90, `corrected ${r.corrected.p90} vs uncorrected ${r.uncorrected.p90}`);
    assert.ok(r.uncorrected.p90 < 50_000, `uncorrected p90 ${r.uncorrected.p90} µs`);
  });

  it('counts a reply with the wrong body length as an error, in both loops', async () => {
    const short = { ...target, path: '/short' };
    const open = await openLoop({ ...short, rate: 100, connections: 2, warmupMs: 0, durationMs: 300, drainMs: 1000 }, () => {});
    assert.equal(open.completed, 0);
    assert.ok(open.errors >= 29, `errors ${open.errors}`);
    assert.match(open.errorSamples[0] ?? '', /body 10 bytes, expected 100/);
    const closed = await closedLoop(short, 2, 0, 300);
    assert.equal(closed.completed, 0);
    assert.ok(closed.errors > 0);
  });
});

describe('load generator connection (h1-client.ts)', () => {
  /** A raw server that answers the n-th request on a connection with replies[n] (written in pieces). */
  async function rawServer(reply: (n: number, socket: net.Socket) => void): Promise<{ port: number; requests: string[]; close(): void }> {
    const requests: string[] = [];
    const server = net.createServer((socket) => {
      let n = 0;
      socket.on('data', (d) => {
        requests.push(d.toString('latin1'));
        reply(n++, socket);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, requests, close: () => server.close() };
  }
  const send = (c: H1ClientConnection) => new Promise<string | undefined>((r) => c.send(r));

  it('reads a reply split anywhere, even inside its CRLFCRLF, then the next one on the same connection', async () => {
    const reply = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    const srv = await rawServer((n, socket) => {
      const cut = n === 0 ? reply.indexOf('\r\n\r\n') + 2 : 3;
      socket.write(reply.slice(0, cut));
      setTimeout(() => socket.write(reply.slice(cut)), 20);
    });
    const c = new H1ClientConnection('127.0.0.1', srv.port, 'http://svc:9080/', 'svc:9080', 5);
    assert.equal(await send(c), undefined);
    assert.equal(await send(c), undefined);
    assert.equal(srv.requests.length, 2);
    assert.match(srv.requests[0]!, /^GET http:\/\/svc:9080\/ HTTP\/1\.1\r\nhost: svc:9080\r\n/);
    c.close();
    srv.close();
  });

  it('names a non-200 status with its x-weft-error, a reply without content-length, and a closed connection; then reconnects', async () => {
    const srv = await rawServer((n, socket) => {
      if (n === 0) socket.write('HTTP/1.1 503 Service Unavailable\r\nx-weft-error: no healthy upstream in c\r\ncontent-length: 0\r\n\r\n');
      else if (n === 1) socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n');
    });
    const c = new H1ClientConnection('127.0.0.1', srv.port, '/', 'a', 0);
    assert.equal(await send(c), '503 no healthy upstream in c');
    assert.equal(await send(c), 'status 200 without a content-length');
    const quiet = await rawServer((_n, socket) => socket.end());
    const d = new H1ClientConnection('127.0.0.1', quiet.port, '/', 'a', 0);
    assert.equal(await send(d), 'connection closed');
    assert.equal(await send(d), 'connection closed', 'a new connection for the next request');
    assert.equal(quiet.requests.length, 2);
    c.close();
    srv.close();
    quiet.close();
  });
});
