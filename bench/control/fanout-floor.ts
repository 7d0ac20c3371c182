/**
 * The floor under `bench:control`'s convergence figures: what fanning one response out to N ADS
 * streams and reading N ACKs back costs node:http2 by itself, with no xDS in it. The server (pinned
 * like `weft control`) holds N gRPC streams from N HTTP/2 connections (a client process on the other
 * CPU, as the simulated fleet is); per push it writes the same pre-framed ~0.9 kB message to every
 * stream, in batches of 64 per event-loop turn as weft's ADS server does, and counts ACK frames
 * (~0.2 kB, not decoded). It prints push → last ACK (p50/p99/max) and server CPU per push.
 *
 *   node bench/control/fanout-floor.ts [--streams 1000] [--pushes 20] [--bytes 900] [--ack-bytes 200]
 */
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DELTA_ADS_PATH } from '../../src/xds/ads-service.ts';
import { summarize } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    streams: { type: 'string', default: '1000' },
    pushes: { type: 'string', default: '20' },
    bytes: { type: 'string', default: '900' },
    'ack-bytes': { type: 'string', default: '200' },
    port: { type: 'string' },
  },
});
for (const name of ['streams', 'pushes', 'bytes', 'ack-bytes'] as const) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`fanout-floor: --${name} must be a positive integer, not ${JSON.stringify(args[name])}`);
    process.exit(2);
  }
}
const STREAMS = Number(args.streams);
const BATCH = 64;

/** A gRPC length-prefixed message of `n` payload bytes. */
function frame(n: number): Buffer {
  const b = Buffer.alloc(5 + n, 0x61);
  b[0] = 0;
  b.writeUInt32BE(n, 1);
  return b;
}

/** Holds the streams; on "push" from stdin writes to all and reports when every one has answered. */
function server(): void {
  const response = frame(Number(args.bytes));
  const streams: http2.ServerHttp2Stream[] = [];
  let pushedAt = 0, cpuAt = process.cpuUsage(), acks = 0, pushing = false;
  const srv = http2.createServer({ settings: { headerTableSize: 0 } });
  srv.on('session', (s) => s.on('error', () => {}));
  srv.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    let first = true;
    stream.on('data', () => {
      if (first) {
        first = false;
        streams.push(stream);
        if (streams.length === STREAMS) process.stdout.write('ready\n');
        return;
      }
      if (pushing && ++acks === streams.length) {
        pushing = false;
        const cpu = process.cpuUsage(cpuAt);
        process.stdout.write(`done ${performance.now() - pushedAt} ${(cpu.user + cpu.system) / 1000}\n`);
      }
    });
  });
  srv.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(srv.address() as AddressInfo).port}\n`));
  const fanOut = (from: number) => {
    const end = Math.min(from + BATCH, streams.length);
    for (let i = from; i < end; i++) streams[i]!.write(response);
    if (end < streams.length) setImmediate(() => fanOut(end));
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line !== 'push') return process.exit(0);
    pushedAt = performance.now();
    cpuAt = process.cpuUsage();
    acks = 0;
    pushing = true;
    setImmediate(() => fanOut(0));
  });
}

/** N connections with one stream each; every message received is answered with an ACK-sized one. */
function clients(): void {
  const hello = frame(100), ack = frame(Number(args['ack-bytes']));
  for (let i = 0; i < STREAMS; i++) {
    const session = http2.connect(`http://127.0.0.1:${args.port}`);
    session.on('error', (e) => { throw e; });
    const stream = session.request({ ':method': 'POST', ':path': DELTA_ADS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    stream.write(hello);
    stream.on('data', () => stream.write(ack));
  }
}

async function main(): Promise<void> {
  const self = new URL(import.meta.url).pathname;
  const common = [`--streams=${STREAMS}`, `--bytes=${args.bytes}`, `--ack-bytes=${args['ack-bytes']}`];
  const srv = spawn('taskset', ['-c', '0', process.execPath, self, '--role=server', ...common], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: srv.stdout! })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value);
  const port = (await next()).split(' ')[1]!;
  const fleet = spawn('taskset', ['-c', '1', process.execPath, self, '--role=clients', `--port=${port}`, ...common], { stdio: 'inherit' });
  if ((await next()) !== 'ready') throw new Error('server did not get every stream');
  const ms: number[] = [], cpu: number[] = [];
  for (let i = 0; i < Number(args.pushes); i++) {
    await new Promise((r) => setTimeout(r, 300));
    srv.stdin!.write('push\n');
    const [, t, c] = (await next()).split(' ');
    ms.push(Number(t));
    cpu.push(Number(c));
  }
  const s = summarize(ms.slice(1))!, c = summarize(cpu.slice(1))!;
  const f = (x: number) => x.toFixed(1);
  console.log(`node:http2 fan-out floor, ${STREAMS} streams, ${args.bytes} B out / ${args['ack-bytes']} B back per stream, ${ms.length - 1} pushes after one warm-up`);
  console.log(`  push → last ACK  p50 ${f(s.p50)} ms  p99 ${f(s.p99)} ms  max ${f(s.max)} ms`);
  console.log(`  server CPU per push  p50 ${f(c.p50)} ms  max ${f(c.max)} ms  (${f((c.p50 * 1000) / STREAMS)} µs per stream)`);
  srv.stdin!.end('quit\n');
  fleet.kill();
}

if (args.role === 'server') server();
else if (args.role === 'clients') clients();
else await main();
