/**
 * `node bench/proxy/max-ab.ts [--variant "label|bin/weft.js"]… [--rounds 2] [--seconds 5]
 * [--connections 16]`: closed-loop maximum throughput of sidecar A's one-hop path, variant against
 * variant (e.g. this checkout against `git archive` of another, unpacked elsewhere). At saturation a
 * proxy's throughput is the inverse of its CPU per request, without the wake-up cost that dominates an
 * idle-ish proxy at 1000 rps, so it shows small changes to the per-request work that open-loop runs on a
 * shared machine cannot. Each round starts every variant's mesh in turn (ABAB…), pins sidecar A alone
 * on the first CPU and wrk + the app on the second, warms for 8 s (JIT), then runs wrk three times;
 * prints rps and the proxy's vCPU for each.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureWrk, maxThroughput } from './max-throughput.ts';
import { pin, placementFor, startMesh } from './mesh.ts';

const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
  },
});
const wrk = ensureWrk();
if (!wrk.available) throw new Error(`max-ab needs wrk: ${wrk.note}`);
const where = placementFor('split', 2);
if (where === undefined) throw new Error('max-ab needs two CPUs');
const variants = (args.variant.length > 0 ? args.variant : ['weft|']).map((v) => {
  const [label = '', bin = ''] = v.split('|');
  return { label, bin: bin === '' ? resolve(import.meta.dirname, '..', '..', 'bin', 'weft.js') : resolve(bin) };
});
const results = new Map<string, number[]>();
for (let round = 1; round <= Number(args.rounds); round++) {
  for (const v of variants) {
    execFileSync(process.execPath, [v.bin, 'proxy', '--help'], { stdio: 'ignore' }); // compile cache
    const mesh = await startMesh({ placement: where, proxyBin: v.bin });
    try {
      pin(mesh.a.pid, where.client);
      pin(mesh.appPid, where.server);
      await maxThroughput(mesh.targets.oneProxy, mesh.a, Number(args.connections), 8, true, where.server);
      const line: string[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await maxThroughput(mesh.targets.oneProxy, mesh.a, Number(args.connections), Number(args.seconds), true, where.server);
        results.set(v.label, [...(results.get(v.label) ?? []), m.rps]);
        line.push(`${m.rps.toFixed(0)} rps at ${m.proxy.vcpu.toFixed(2)} vCPU${m.errors > 0 ? ` (${m.errors} errors)` : ''}`);
      }
      console.log(`round ${round} ${v.label}: ${line.join(', ')}`);
    } finally {
      await mesh.stop();
    }
  }
}
for (const [label, xs] of results) {
  const sorted = [...xs].sort((a, b) => a - b);
  console.log(`${label}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} rps, best ${sorted[sorted.length - 1]!.toFixed(0)} (${xs.length} runs)`);
}
