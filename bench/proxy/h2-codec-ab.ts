/**
 * `node bench/proxy/h2-codec-ab.ts [--rounds 2] [--seconds 10] [--rate 1000] [--connections 4]`: weft's
 * HTTP/2 codec against node:http2, as bare servers answering 1 KiB, alternated round by round. Each
 * server runs alone on CPU 1 (with the proxy's `--max-semi-space-size=1`), h2load on CPU 0 at a fixed
 * rate after 5 s of the same load; prints per round the server's CPU per 1000 requests (from /proc),
 * h2load's mean and maximum request time, and the server's RSS (anonymous part in parentheses).
 * Needs h2load (Debian: nghttp2-client) and taskset.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '4' },
    server: { type: 'string' },
  },
});

// As a child: one of the two servers.
if (args.server !== undefined) {
  const body = Buffer.alloc(1024, 120);
  const ready = (address: unknown): void => void process.send?.({ port: (address as { port: number }).port });
  if (args.server === 'weft') {
    const net = await import('node:net');
    const { DEFAULT_SETTINGS, H2Session } = await import('../../src/proxy/codec/http2/session.ts');
    const server = net.createServer({ noDelay: true }, (socket) => {
      new H2Session(socket, 'server', DEFAULT_SETTINGS, {
        stream(stream, _fields, endStream) {
          const respond = (): void => {
            stream.sendHeaders([':status', '200', 'content-type', 'text/plain', 'content-length', '1024'], false);
            stream.write(body);
            stream.end();
          };
          stream.listener = { streamHeaders() {}, streamData(_c, end) { if (end) respond(); }, streamDrain() {}, streamClose() {} };
          if (endStream) respond();
        },
        goaway() {},
        close() {},
      });
    });
    server.listen(0, '127.0.0.1', () => ready(server.address()));
  } else {
    const http2 = await import('node:http2');
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': '1024' });
      stream.end(body);
    });
    server.listen(0, '127.0.0.1', () => ready(server.address()));
  }
} else {
  await main();
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function status(pid: number, key: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`));
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
}

function h2load(port: number, seconds: number): string {
  const conns = Number(args.connections);
  const perClient = Math.max(1, Math.round(Number(args.rate) / conns));
  return execFileSync('taskset', ['-c', '0', 'h2load', '-c', String(conns), '-m', '10', `--rps=${perClient}`, '-D', String(seconds), `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
}

async function measure(kind: 'weft' | 'node'): Promise<string> {
  const child: ChildProcess = spawn('taskset', ['-c', '1', process.execPath, '--max-semi-space-size=1', import.meta.filename, '--server', kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const [{ port }] = await once(child, 'message') as [{ port: number }];
    // taskset execs node in place: the child's pid is the server's.
    const pid = child.pid!;
    h2load(port, 5);
    const before = cpuTicks(pid);
    const out = h2load(port, Number(args.seconds));
    const ticks = cpuTicks(pid) - before;
    const done = Number(/requests: \d+ total, \d+ started, (\d+) done/.exec(out)?.[1] ?? NaN);
    const time = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
    const cpu = (ticks / 100) / (done / 1000);
    return `${kind.padEnd(4)} ${cpu.toFixed(3)} vCPU per 1000 rps, request time mean ${time?.[3]} max ${time?.[2]}, RSS ${status(pid, 'VmRSS').toFixed(1)} MB (anon ${status(pid, 'RssAnon').toFixed(1)})`;
  } finally {
    child.kill();
    await once(child, 'exit');
  }
}

async function main(): Promise<void> {
  console.log(`weft's HTTP/2 codec vs node:http2: ${args.rate} rps over ${args.connections} connections, 1 KiB replies, ${args.seconds} s after 5 s; servers on CPU 1, h2load on CPU 0`);
  for (let r = 1; r <= Number(args.rounds); r++) {
    for (const kind of ['weft', 'node'] as const) console.log(`round ${r}: ${await measure(kind)}`);
  }
}
