/**
 * The generator keeps its rate and corrects for coordinated omission: against a server that stalls one
 * request for 300 ms on a single connection, the requests scheduled during the stall count the time they
 * waited (corrected p99 ≥ 200 ms) while their service time stays short; a bad body counts as an error.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedLoop, openLoop, type Target } from './generator.ts';

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
