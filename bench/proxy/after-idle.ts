/**
 * `node bench/proxy/after-idle.ts [--jobs 6] [--idle 40] [--connections 16] [--seconds 8]
 * [--node-args=…] [--env K=V,…]`: what traffic costs after a quiet spell. One benchmark mesh (placed
 * like the benchmark) takes a run of two-hop load (2 s warm-up, then `--seconds` at 1000 rps), then
 * sits idle for `--idle` seconds before the next, `--jobs` times; the first two runs go back to back.
 * Prints per run each sidecar's CPU per 1000 rps, the p99 from the scheduled send, and anonymous/RSS
 * memory before and after. A sidecar's traffic comes and goes, and what V8 does while it is idle (its
 * memory reducer, say) shows in the run that follows; `--node-args` and `--env` compare settings.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { OpenLoopResult } from './generator.ts';
import { placementFor, startMesh } from './mesh.ts';
import { memoryDetail } from './proc-memory.ts';
import { envList, nodeArgList } from './cli-lists.ts';
import { runJob } from './run.ts';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '6' },
    idle: { type: 'string', default: '40' },
    connections: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '8' },
    'node-args': { type: 'string', default: '' },
    env: { type: 'string', default: '' },
  },
});
for (const name of ['jobs', 'idle', 'connections', 'seconds'] as const) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < (name === 'idle' ? 0 : 1)) throw new Error(`--${name} ${JSON.stringify(args[name])}: expected a whole number${name === 'idle' ? '' : ' above 0'}`);
}
const where = placementFor('split', cpus().length);
const env = envList(args.env);
const mesh = await startMesh({
  ...(where === undefined ? {} : { placement: where }),
  proxyNodeArgs: nodeArgList(args['node-args']),
  proxyEnv: env,
});
const memory = (pids: readonly number[]) => pids.map((pid) => memoryDetail(pid)).map((m) => `${m.anonMB.toFixed(1)}/${m.rssMB.toFixed(1)}`).join(' ');
const idleS = Number(args.idle);
console.log(`two-hop runs of ${args.seconds} s at 1000 rps over ${args.connections} connections, ${idleS} s idle before each from the third; proxy node args: ${args['node-args'] || '(bin/weft.js defaults)'}`);
try {
  for (let i = 0; i < Number(args.jobs); i++) {
    const afterIdle = i > 1 && idleS > 0;
    if (afterIdle) await new Promise((r) => setTimeout(r, idleS * 1000));
    const before = memory([mesh.a.pid, mesh.b.pid]);
    const spec = { ...mesh.targets.twoProxies, rate: 1000, connections: Number(args.connections), warmupMs: 2000, durationMs: Number(args.seconds) * 1000, drainMs: 5000 };
    const { result, usage } = await runJob<OpenLoopResult>({ kind: 'open', spec }, [mesh.a, mesh.b], Number(args.seconds) * 1000 + 60_000, where?.client);
    const cpu = usage.map((u) => `${u.name} ${(u.vcpu / (result.achievedRps / 1000)).toFixed(3)}`).join(', ');
    console.log(`run ${i}${afterIdle ? ` (after ${idleS} s idle)` : ''}: vCPU per 1000 rps ${cpu}; p99 ${(result.corrected.p99 / 1000).toFixed(2)} ms; anon/RSS MB before ${before}, after ${usage.map((u) => `${u.anonMB.toFixed(1)}/${u.rssMB.toFixed(1)}`).join(' ')}`);
  }
} finally {
  await mesh.stop();
}
