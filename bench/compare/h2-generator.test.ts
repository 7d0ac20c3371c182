/**
 * The HTTP/2 generator against the h2c app in its own process: it holds the rate for plain HTTP/2 and
 * unary gRPC (with grpc-status checked in the trailers), and counts a wrong body length as an error.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { h2OpenLoop, type H2Target } from './h2-generator.ts';

describe('HTTP/2 open-loop generator', () => {
  let app: ChildProcess;
  let port = 0;
  before(async () => {
    app = fork(join(import.meta.dirname, 'h2-app.ts'), ['100'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    port = await new Promise<number>((r) => app.once('message', (m: { port: number }) => r(m.port)));
  });
  after(() => app.kill());

  const run = (t: Partial<H2Target>) => h2OpenLoop({ host: '127.0.0.1', port, authority: 'svc:9090', path: '/', grpc: false, expectBytes: 100, rate: 200, connections: 2, warmupMs: 100, durationMs: 500, drainMs: 2000, ...t }, () => {});

  it('holds the rate for plain requests and for gRPC calls', async () => {
    for (const grpc of [false, true]) {
      const r = await run({ grpc, expectBytes: grpc ? 105 : 100, path: grpc ? '/bench.Bench/Get' : '/' });
      assert.equal(r.errors, 0, `${grpc ? 'gRPC' : 'HTTP/2'}: ${r.errorSamples.join('; ')}`);
      assert.ok(Math.abs(r.completed - 100) <= 2, `completed ${r.completed}`);
      assert.ok(r.corrected.p50 > 0 && r.corrected.p50 < 50_000, `p50 ${r.corrected.p50} µs`);
    }
  });

  it('counts a reply of the wrong length as an error', async () => {
    const r = await run({ expectBytes: 99 });
    assert.equal(r.completed, 0);
    assert.ok(r.errors >= 99, `errors ${r.errors}`);
    assert.match(r.errorSamples[0] ?? '', /body 100 bytes, expected 99/);
  });
});
