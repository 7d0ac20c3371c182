/**
 * bench/proxy/run.ts's runJob for a generator module of this folder (runJob forks its own
 * load-child.ts): forks `module` (pinned to `cpus`), hands it `job`, and samples the watched processes
 * from /proc over exactly the window the generator records: CPU between its `measuring` and its
 * result, memory at the end.
 */
import { fork } from 'node:child_process';
import { cpuSeconds } from '../control/proc.ts';
import type { LoadMessage } from '../proxy/load-child.ts';
import { pin } from '../proxy/mesh.ts';
import { memoryDetail } from '../proxy/proc-memory.ts';
import type { JobOutcome } from '../proxy/run.ts';

export async function runForked<R>(module: string, job: unknown, watch: ReadonlyArray<{ name: string; pid: number }>, timeoutMs: number, cpus: string | undefined): Promise<JobOutcome<R>> {
  const child = fork(module, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  pin(child.pid!, cpus);
  let startCpu: number[] = [];
  let startAt = performance.now();
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
  child.send(job as object);
  return outcome;
}
