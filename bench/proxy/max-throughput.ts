/**
 * Closed-loop maximum throughput of one proxy process: `wrk` (C, so the client is not the bottleneck)
 * sends absolute-form requests to sidecar A's outbound listener for the one-hop path; without wrk, the
 * generator's closed-loop mode does (a Node client: a lower bound). The proxy's CPU over the run shows
 * whether it was the bottleneck (≈ 1.0 vCPU: a Node process has one JS thread).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from '../control/proc.ts';
import type { ClosedLoopResult, Target } from './generator.ts';
import { memoryDetail } from './proc-memory.ts';
import { runJob, type ProcessUsage } from './run.ts';

export interface MaxThroughput {
  readonly tool: string;
  readonly connections: number;
  readonly durationS: number;
  readonly rps: number;
  readonly errors: number;
  readonly proxy: ProcessUsage;
}

function has(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** wrk on PATH, installing Debian's package when running as root and it is missing; the note says what happened. */
export function ensureWrk(): { available: boolean; note: string } {
  if (has('wrk')) return { available: true, note: 'wrk found' };
  if (process.getuid?.() !== 0) return { available: false, note: 'wrk not installed (not root, so not installing it): using the Node generator in closed loop' };
  try {
    console.log('wrk is missing: installing it with apt-get install -y wrk');
    execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore', timeout: 120_000 });
    return has('wrk') ? { available: true, note: 'wrk installed by this benchmark (apt-get install -y wrk)' } : { available: false, note: 'apt-get install wrk did not provide wrk' };
  } catch {
    return { available: false, note: 'apt-get install -y wrk failed: using the Node generator in closed loop' };
  }
}

function wrk(target: Target, connections: number, durationS: number, cpus: string | undefined): Promise<{ rps: number; errors: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-wrk-'));
  const script = join(dir, 'absolute-form.lua');
  // wrk builds the request line from wrk.path, so an absolute URL makes it an HTTP proxy request.
  writeFileSync(script, `wrk.path = ${JSON.stringify(target.path)}\nwrk.headers["Host"] = ${JSON.stringify(target.hostHeader)}\n`);
  const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '-s', script, `http://${target.host}:${target.port}/`];
  return new Promise((resolve, reject) => {
    const child = cpus === undefined ? spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn('taskset', ['-c', cpus, 'wrk', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (code !== 0 || rps === null) return reject(new Error(`wrk exited ${code}:\n${out}`));
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const socketErrors = socket === null ? 0 : socket.slice(1).reduce((s, n) => s + Number(n), 0);
      resolve({ rps: Number(rps[1]), errors: non2xx + socketErrors });
    });
  });
}

/** `cpus`: where the load tool runs (the client side's CPUs), undefined: unpinned. */
export async function maxThroughput(target: Target, proxy: { name: string; pid: number }, connections: number, durationS: number, useWrk: boolean, cpus?: string): Promise<MaxThroughput> {
  if (!useWrk) {
    const job = { kind: 'closed' as const, target, connections, warmupMs: 1000, durationMs: durationS * 1000 };
    const { result, usage } = await runJob<ClosedLoopResult>(job, [proxy], durationS * 1000 + 30_000, cpus);
    return { tool: 'node generator (closed loop)', connections, durationS, rps: result.rps, errors: result.errors, proxy: usage[0]! };
  }
  await wrk(target, connections, 1, cpus); // warm-up: JIT and pooled upstream connections
  const cpu0 = cpuSeconds(proxy.pid);
  const t0 = performance.now();
  const { rps, errors } = await wrk(target, connections, durationS, cpus);
  const vcpu = (cpuSeconds(proxy.pid) - cpu0) / ((performance.now() - t0) / 1000);
  return { tool: 'wrk -t1', connections, durationS, rps, errors, proxy: { name: proxy.name, vcpu, ...memoryDetail(proxy.pid) } };
}
