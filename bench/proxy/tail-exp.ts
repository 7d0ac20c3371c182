// experiment: settled two-hop p99 per V8 variant (sequential). node bench/proxy/tail-exp.ts "args1" "args2" ...
import { placementFor, startMesh } from './mesh.ts';
import { runJob } from './run.ts';
import type { OpenLoopResult } from './generator.ts';
import { cpus } from 'node:os';
const variants = process.argv.slice(2);
const rounds = Number(process.env.ROUNDS ?? 2);
const ms = (x: number) => (x / 1000).toFixed(2);
for (let r = 0; r < rounds; r++) for (const v of variants) {
  const mesh = await startMesh({ proxyNodeArgs: v.split(' ').filter(Boolean), placement: placementFor('split', cpus().length)! });
  try {
    const run = async (target: typeof mesh.targets.direct, s: number) => (await runJob<OpenLoopResult>({ kind: 'open', spec: { ...target, rate: 1000, connections: Number(process.env.CONN ?? 4), warmupMs: 1000, durationMs: s * 1000, drainMs: 5000 } }, [mesh.a, mesh.b], s * 1000 + 60_000, mesh.placement?.client));
    await run(mesh.targets.twoProxies, 10);
    const d = (await run(mesh.targets.direct, 8)).result.corrected;
    const t = await run(mesh.targets.twoProxies, 8);
    const c = t.result.corrected;
    console.log(`[${v}] r${r}: direct p50 ${ms(d.p50)} p99 ${ms(d.p99)} | 2 hops added p50 ${ms(c.p50 - d.p50)} p90 ${ms(c.p90 - d.p90)} p99 ${ms(c.p99 - d.p99)} max ${ms(c.max)} | vCPU ${t.usage.map((u) => (u.vcpu).toFixed(3)).join('+')} anon ${t.usage.map((u) => u.anonMB.toFixed(1)).join('/')}`);
  } finally { await mesh.stop(); }
}
