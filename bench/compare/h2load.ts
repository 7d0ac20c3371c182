/**
 * Closed-loop maximum throughput over HTTP/2 with h2load (nghttp2-client, C): `clients` connections,
 * `streams` concurrent streams each, cleartext prior knowledge, `:authority` naming the service (so a
 * sidecar's outbound listener routes it), one thread pinned to `cpus`; the watched process's CPU and
 * memory over the run from /proc.
 */
import { spawn } from 'node:child_process';
import { cpuSeconds } from '../control/proc.ts';
import { memoryDetail } from '../proxy/proc-memory.ts';
import type { H2Target } from './h2-generator.ts';

export interface H2Max {
  readonly tool: string;
  readonly clients: number;
  readonly streams: number;
  readonly durationS: number;
  readonly rps: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly process: string;
  readonly vcpu: number;
  readonly rssMB: number;
  readonly peakMB: number;
}

export interface H2LoadOutput {
  readonly rps: number;
  readonly succeeded: number;
  /** failed + errored + timeout + non-2xx. */
  readonly failed: number;
}

/** Reads h2load's summary (`finished in …, N req/s`, `requests: … succeeded, … failed, … errored, … timeout`, `status codes: …`). */
export function parseH2load(out: string): H2LoadOutput {
  const rps = /finished in [^,]+,\s*([\d.]+) req\/s/.exec(out);
  const req = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (rps === null || req === null) throw new Error(`h2load: no summary in its output:\n${out.slice(-2000)}`);
  const non2xx = codes === null ? 0 : Number(codes[2]) + Number(codes[3]) + Number(codes[4]);
  return { rps: Number(rps[1]), succeeded: Number(req[1]), failed: Number(req[2]) + Number(req[3]) + Number(req[4]) + non2xx };
}

function h2load(t: H2Target, clients: number, streams: number, durationS: number, warmupS: number, cpus: string | undefined): Promise<H2LoadOutput> {
  const args = ['-t1', `-c${clients}`, `-m${streams}`, `-D${durationS}`, `--warm-up-time=${warmupS}`, '-H', `:authority: ${t.authority}`, `http://${t.host}:${t.port}${t.path}`];
  const [file, argv] = cpus === undefined ? ['h2load', args] : ['taskset', ['-c', cpus, 'h2load', ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (durationS + warmupS + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`h2load exited ${code}:\n${out.slice(-2000)}`);
        resolve(parseH2load(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}

export async function h2Max(t: H2Target, watched: { name: string; pid: number }, clients: number, streams: number, durationS: number, cpus: string | undefined): Promise<H2Max> {
  const warmupS = 1;
  const cpu0 = cpuSeconds(watched.pid);
  const t0 = performance.now();
  const r = await h2load(t, clients, streams, durationS, warmupS, cpus);
  // The warm-up's CPU is in the total too: spread over the whole wall time, it is the mean load.
  const vcpu = (cpuSeconds(watched.pid) - cpu0) / ((performance.now() - t0) / 1000);
  const m = memoryDetail(watched.pid);
  return { tool: 'h2load -t1', clients, streams, durationS, rps: r.rps, succeeded: r.succeeded, failed: r.failed, process: watched.name, vcpu, rssMB: m.rssMB, peakMB: m.peakMB };
}
