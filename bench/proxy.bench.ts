/**
 * `npm run bench:proxy [-- --quick]`: the data plane's cost, in Istio's benchmark shape. An open-loop,
 * fixed-rate generator (fortio's model, HDR histograms in µs, latency from the scheduled send time)
 * sends HTTP/1.1 GETs for 1 KiB at 1000 rps over 1/4/16/64 keep-alive connections: direct to the app,
 * through one sidecar (client → A:15001 → app), and through two (client → A:15001 → B:9080 → app), all
 * real processes (`weft control`, `weft proxy` ×2, the app, the generator: each its own). Prints the
 * latency the proxies add over direct, their CPU per 1000 rps and RSS from /proc, and the closed-loop
 * maximum throughput of one proxy (wrk); writes the raw figures to bench/results/proxy.json.
 * Targets (issue 4): ≤ 0.10 vCPU per 1000 rps per proxy, ≤ 40 MB RSS, two proxies add ≤ 1 ms p99.
 *
 * Placement (taskset, on by default when the machine has 2+ CPUs; `--placement`, see mesh.ts
 * `placementFor`): `split` (default) is Istio's two-node shape, the generator and sidecar A on the first
 * half of the CPUs, sidecar B, the app and the control plane on the second; `generator-alone` gives the
 * generator the first half and the whole data path the second. The closed-loop run moves sidecar A
 * onto the first half alone and wrk and the app onto the second, so the proxy under test has its CPUs
 * to itself.
 * Before the mesh starts, `weft proxy --help` warms Node's compile cache, as any earlier start of
 * this code would have (a sidecar's first start after a code change also loads the TypeScript stripper).
 *
 * Options: --quick (4 connections, 10 s each), --rate 1000, --connections 1,4,16,64, --duration <s>
 * (15; quick 10), --warmup <s> (2), --settle <s> (10; quick 3: load through both proxies before the
 * first recorded run, so that V8 has compiled their hot code; its CPU is printed, not recorded), --max-connections 16, --max-duration <s> (10; 0 skips it),
 * --placement split|generator-alone, --no-pin (leave every process unpinned), --poll-cpus.
 * CPU idle: the CPUs halt between requests, as a user's machines do. `--poll-cpus` holds a PM QoS
 * request that keeps them polling instead (bench/cpu-latency.ts), which shows what the halts cost: on
 * this VM (a Firecracker guest whose kernel halts at once, `haltpoll.guest_halt_poll_ns=0`) a halted
 * vCPU runs the next request slower, and at 1000 rps each proxy halts about twice a request. Polling
 * took ~30 % off every sidecar's CPU per request (client sidecar 0.086–0.101 → 0.059–0.072 vCPU per
 * 1000 rps, server sidecar 0.069–0.087 → 0.047–0.051; two runs of 1/4/16/64 connections against one),
 * but 5 of its 24 runs had a ~100 ms stall (direct runs too; none of the 12 halting runs did): a guest
 * that never halts is charged for it by the host. So polling is a diagnosis, not the figures to quote.
 *
 * Companions in bench/proxy/ for deciding changes on a shared, noisy machine: `probe.ts` (where a
 * sidecar's memory and CPU go: /proc split, V8 spaces, malloc arenas, CPU and allocation profiles),
 * `ab.ts` (paired runs of proxy variants under the same load at the same time, with the bare
 * node:http + undici floor), `max-ab.ts` (maximum throughput of checkouts against each other: at
 * saturation, the inverse of the CPU per request without the wake-up cost, so small changes show),
 * `request-path.ts` (weft's own per-request CPU and allocations, in memory).
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuIdleLine, cpuIdleOf, pollCpusIf } from './cpu-latency.ts';
import { machine } from './machine.ts';
import { gitCommit } from './compare/run-info.ts';
import type { OpenLoopResult, Target } from './proxy/generator.ts';
import { pin, placementFor, startMesh, type Mesh, type PlacementName } from './proxy/mesh.ts';
import { ensureWrk, maxThroughput, type MaxThroughput } from './proxy/max-throughput.ts';
import { addedOver, printConnections, printTargets, targets, type ScenarioName, type ScenarioResult } from './proxy/report.ts';
import { runJob, sampleIdle, type ProcessUsage } from './proxy/run.ts';

const HELP = `npm run bench:proxy [-- options]: weft's data plane in Istio's benchmark shape → bench/results/proxy.json
  --quick                 4 connections, 10 s runs, 3 s of settling
  --rate N                fixed request rate of the open loop (1000)
  --connections LIST      keep-alive connection counts (1,4,16,64; quick 4)
  --duration S            recorded seconds per run (15; quick 10)
  --warmup S              unrecorded seconds before each run (2)
  --settle S              seconds through both proxies before the first run, so that V8 has compiled
                          their hot code; its CPU is printed apart (10; quick 3; 0 skips)
  --max-connections N     wrk connections for the maximum throughput of one proxy (16)
  --max-duration S        wrk seconds, 0 skips (10)
  --placement P           split: generator + sidecar A on the first CPUs, the rest on the others;
                          generator-alone: the generator on the first CPUs, the whole data path on the others
  --no-pin                leave every process unpinned
  --poll-cpus             keep the CPUs polling instead of halting between requests (PM QoS request), to
                          see what the host's wake-ups cost; not the figures to quote (see the top of this file)`;

const { values: args } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    rate: { type: 'string', default: '1000' },
    connections: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    settle: { type: 'string' },
    'max-connections': { type: 'string', default: '16' },
    'max-duration': { type: 'string', default: '10' },
    pin: { type: 'boolean', default: true },
    placement: { type: 'string', default: 'split' },
    'poll-cpus': { type: 'boolean', default: false },
  },
  allowNegative: true,
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const rate = Number(args.rate);
const connectionsList = (args.connections ?? (args.quick ? '4' : '1,4,16,64')).split(',').map(Number);
const durationS = Number(args.duration ?? (args.quick ? 10 : 15));
const warmupS = Number(args.warmup);
const settleS = Number(args.settle ?? (args.quick ? 3 : 10));
const maxDurationS = Number(args['max-duration']);

if (args.placement !== 'generator-alone' && args.placement !== 'split') throw new Error(`--placement: generator-alone or split (got ${JSON.stringify(args.placement)})`);
const where = args.pin ? placementFor(args.placement as PlacementName, cpus().length) : undefined;

function warmCompileCache(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'weft.js'), 'proxy', '--help'], { stdio: 'ignore' });
}

async function scenario(mesh: Mesh, name: ScenarioName, target: Target, connections: number, direct: OpenLoopResult | undefined, time = { warmupS, durationS }): Promise<ScenarioResult> {
  const watch = name === 'direct' ? [] : name === 'one proxy' ? [mesh.a] : [mesh.a, mesh.b];
  const spec = { ...target, rate, connections, warmupMs: time.warmupS * 1000, durationMs: time.durationS * 1000, drainMs: 5000 };
  const { result, usage } = await runJob<OpenLoopResult>({ kind: 'open', spec }, watch.map((p) => ({ name: p.name, pid: p.pid })), (time.warmupS + time.durationS) * 1000 + 60_000, mesh.placement?.client);
  const added = direct === undefined ? undefined : addedOver(direct.corrected, result.corrected);
  return { scenario: name, connections, rate, load: result, proxies: usage, ...(added === undefined ? {} : { added }) };
}

const cpuLatency = pollCpusIf(args['poll-cpus']);
const startedAt = new Date();
const commit = gitCommit(import.meta.dirname);
console.log(`weft proxy data plane — ${startedAt.toISOString()}, commit ${commit}`);
console.log(`machine: ${machine()}`);
console.log(`load: open loop, ${rate} rps, HTTP/1.1 GET, 1 KiB replies, connections ${connectionsList.join('/')}, ${warmupS} s warm-up + ${durationS} s recorded per run, after ${settleS} s of settling load`);
console.log(where === undefined ? 'placement: every process unpinned' : `placement (taskset, ${where.name}): ${where.description}; max throughput: sidecar A alone on CPU ${where.client}, wrk + app on CPU ${where.server}`);
console.log(cpuIdleLine(cpuLatency, 'requests'));
console.log('paths: direct = client → app; one proxy = client → A:15001 → app (WorkloadEntry, no sidecar); two proxies = client → A:15001 → B:9080 → app');
const wrkStatus = maxDurationS > 0 ? ensureWrk() : { available: false, note: 'skipped' };

warmCompileCache();
const mesh = await startMesh(where === undefined ? {} : { placement: where });
const rows: ScenarioResult[] = [];
let max: MaxThroughput | undefined;
let idle: ProcessUsage[] = [];
try {
  console.log(`mesh up: control pid ${mesh.control.pid}, app pid ${mesh.appPid}, ${mesh.a.name} ${mesh.a.ip} pid ${mesh.a.pid}, ${mesh.b.name} ${mesh.b.ip} pid ${mesh.b.pid}`);
  idle = await sampleIdle([mesh.a, mesh.b], 3000);
  console.log(`idle (3 s, no traffic): ${idle.map((u) => `${u.name} ${u.vcpu.toFixed(3)} vCPU, RSS ${u.rssMB.toFixed(1)} MB (anon ${u.anonMB.toFixed(1)}, file ${u.fileMB.toFixed(1)}; peak ${u.peakMB.toFixed(1)})`).join('; ')}`);
  if (settleS > 0) {
    const { proxies } = await scenario(mesh, 'two proxies', mesh.targets.twoProxies, 4, undefined, { warmupS: 0, durationS: settleS });
    console.log(`settling (${settleS} s through both proxies, 4 connections, not recorded): ${proxies.map((u) => `${u.name} ${(u.vcpu / (rate / 1000)).toFixed(3)} vCPU per 1000 rps`).join('; ')}`);
  }
  for (const connections of connectionsList) {
    const direct = await scenario(mesh, 'direct', mesh.targets.direct, connections, undefined);
    const one = await scenario(mesh, 'one proxy', mesh.targets.oneProxy, connections, direct.load);
    const two = await scenario(mesh, 'two proxies', mesh.targets.twoProxies, connections, direct.load);
    printConnections([direct, one, two]);
    rows.push(direct, one, two);
  }
  if (maxDurationS > 0) {
    const conns = Number(args['max-connections']);
    console.log(`\nclosed-loop maximum throughput of one proxy (${mesh.a.name}, one-hop path), ${conns} connections, ${maxDurationS} s: ${wrkStatus.note}`);
    if (where !== undefined) {
      pin(mesh.a.pid, where.client);
      pin(mesh.appPid, where.server);
    }
    max = await maxThroughput(mesh.targets.oneProxy, mesh.a, conns, maxDurationS, wrkStatus.available, where?.server);
    console.log(`${max.tool}: ${max.rps.toFixed(0)} rps, ${max.errors} errors; proxy ${max.proxy.vcpu.toFixed(2)} vCPU, RSS ${max.proxy.rssMB.toFixed(1)} MB (peak ${max.proxy.peakMB.toFixed(1)})`);
  }
} finally {
  await mesh.stop();
  cpuLatency.release();
}

const list = targets(rows, max);
printTargets(list);
const outDir = join(import.meta.dirname, 'results');
mkdirSync(outDir, { recursive: true });
const config = { rate, connections: connectionsList, durationS, warmupS, settleS, bodyBytes: 1024, placement: where ?? 'unpinned', cpuIdle: cpuIdleOf(cpuLatency), maxThroughput: { connections: Number(args['max-connections']), durationS: maxDurationS, tool: wrkStatus.note } };
writeFileSync(join(outDir, 'proxy.json'), `${JSON.stringify({ date: startedAt.toISOString(), commit, machine: machine(), quick: args.quick, config, idle, scenarios: rows, maxThroughput: max, targets: list }, null, 2)}\n`);
console.log(`\nraw figures: ${join('bench', 'results', 'proxy.json')}`);
