/**
 * Runs one load job in the generator's own process and samples the watched processes (the proxies)
 * from /proc over exactly the recorded window: CPU (utime + stime) between the generator's "measuring"
 * and its result, VmRSS at the end and VmHWM (peak).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { cpuSeconds } from '../control/proc.ts';
import type { LoadJob, LoadMessage } from './load-child.ts';
import { pin } from './mesh.ts';
import { memoryDetail } from './proc-memory.ts';

export interface ProcessUsage {
  readonly name: string;
  /** CPU seconds per wall second over the recorded window. */
  readonly vcpu: number;
  readonly rssMB: number;
  readonly peakMB: number;
  /** RssAnon: what this process alone owns (RSS minus the shared node binary and other mapped files). */
  readonly anonMB: number;
  readonly fileMB: number;
}

export interface JobOutcome<R> {
  readonly result: R;
  readonly windowS: number;
  readonly usage: readonly ProcessUsage[];
}

/**
 * Runs `job` in a forked generator (pinned to `cpus` when given) while watching `watch` from /proc: CPU
 * between the generator's `measuring` message and its result, memory at the end. `module` is the
 * generator (default: this folder's HTTP/1.1 load-child.ts; bench/compare has an HTTP/2 one).
 */
export async function runJob<R>(job: LoadJob | object, watch: ReadonlyArray<{ name: string; pid: number }>, timeoutMs: number, cpus?: string, module = join(import.meta.dirname, 'load-child.ts')): Promise<JobOutcome<R>> {
  const child = fork(module, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  pin(child.pid!, cpus);
  let startCpu: number[] = [];
  let startAt = 0;
  const outcome = new Promise<JobOutcome<R>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the load generator did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m: LoadMessage) => {
      if (m.type === 'measuring') {
        startAt = performance.now();
        startCpu = watch.map((w) => cpuSeconds(w.pid));
        return;
      }
      clearTimeout(timer);
      if (m.type === 'failed') return reject(new Error(`the load generator failed: ${m.error}`));
      const windowS = (performance.now() - startAt) / 1000;
      const usage = watch.map((w, i) => ({ name: w.name, vcpu: (cpuSeconds(w.pid) - (startCpu[i] ?? 0)) / windowS, ...memoryDetail(w.pid) }));
      resolve({ result: m.result as R, windowS, usage });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the load generator exited (${code}) without a result`));
    });
  });
  child.send(job);
  return outcome;
}

/** The watched processes with no traffic: CPU over `ms` (timers, xDS keep-alives) and memory. */
export async function sampleIdle(watch: ReadonlyArray<{ name: string; pid: number }>, ms: number): Promise<ProcessUsage[]> {
  const start = watch.map((w) => cpuSeconds(w.pid));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const s = (performance.now() - t0) / 1000;
  return watch.map((w, i) => ({ name: w.name, vcpu: (cpuSeconds(w.pid) - start[i]!) / s, ...memoryDetail(w.pid) }));
}
