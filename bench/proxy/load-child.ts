/**
 * The load generator's process (forked by the benchmark, so its CPU is not counted as a proxy's): takes
 * one job over IPC, runs it, sends `{type: 'measuring'}` when recording starts and `{type: 'result'}` at
 * the end, then exits.
 */
import { closedLoop, openLoop, type OpenLoopSpec, type Target } from './generator.ts';

export type LoadJob =
  | { readonly kind: 'open'; readonly spec: OpenLoopSpec }
  | { readonly kind: 'closed'; readonly target: Target; readonly connections: number; readonly warmupMs: number; readonly durationMs: number };

export type LoadMessage = { readonly type: 'measuring' } | { readonly type: 'result'; readonly result: unknown } | { readonly type: 'failed'; readonly error: string };

const reply = (m: LoadMessage) => new Promise<void>((r) => process.send!(m, () => r()));

process.once('message', async (job: LoadJob) => {
  try {
    const result = job.kind === 'open'
      ? await openLoop(job.spec, () => void reply({ type: 'measuring' }))
      : await (async () => {
        const r = closedLoop(job.target, job.connections, job.warmupMs, job.durationMs);
        setTimeout(() => void reply({ type: 'measuring' }), job.warmupMs);
        return r;
      })();
    await reply({ type: 'result', result });
  } catch (e) {
    await reply({ type: 'failed', error: e instanceof Error ? e.stack ?? e.message : String(e) });
  }
  process.exit(0);
});
