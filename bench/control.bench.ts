/**
 * `npm run bench:control [-- --quick]`: the control plane at scale. A real `weft control` process serves
 * simulated sidecars (lightweight ADS clients in a second process) for proxies × services in
 * {100, 1000} × {100, 1000}; prints initial sync, VirtualService-change and endpoint-change convergence
 * (apply → every sidecar's ACK, p50/p90/p99/max), the control plane's CPU per push and its memory, next
 * to the targets, and writes the raw figures to bench/results/control.json.
 * Targets (issue 3): 1,000 proxies × 1,000 services converge in ≤ 100 ms p99 after a change; RSS ≤ 300 MB.
 *
 * Options: `--help` (USAGE below). Two need their reasons: `--warmup` changes are made first, timed and
 * printed apart, not counted, because the first change after start runs code for the first time (with
 * one warm-up, the first counted VirtualService change was the slowest of most runs: the simulated
 * fleet spent 2–4× its usual CPU on it, while the control plane was as fast as later); and by default
 * the run holds a PM QoS request that keeps the CPUs polling (`--allow-cpu-idle` lets them halt; see
 * cpu-latency.ts: on this VM a halted vCPU wakes slowly, which is the host's noise).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuIdleLine, cpuIdleOf, cpuLatencyIf } from './cpu-latency.ts';
import { machine } from './machine.ts';
import { gitCommit } from './compare/run-info.ts';
import { runCell, type CellResult } from './control/cell.ts';
import { printCell, printTargets, type Placement } from './control/report.ts';
import type { AdsProtocol } from './control/sidecar-wire.ts';

const USAGE = `npm run bench:control [-- options]: weft control with simulated sidecars → bench/results/control.json
  --quick                  100 × 100 only
  --proxies LIST           proxy counts (100,1000)
  --services LIST          service counts (100,1000)
  --changes N              changes of each kind per cell (5)
  --warmup N               warm-up changes of each kind, made first and not counted (2)
  --kind-budget S          no new change of a kind after S seconds, once two were made (45)
  --timeout S              seconds per cell
  --no-pin                 do not split the CPUs between control plane and sidecars
  --profile DIR            V8 CPU profile of each cell's control plane (also WEFT_BENCH_CPU_PROF)
  --profile-interval US    its sampling interval in µs (V8's default 1000)
  --gc-trace DIR           V8's GC trace of each cell's control plane
  --debounce MS            the control plane's push debounce (10)
  --protocol P             delta | sotw | both (delta)
  --sidecar-scope S        off | on | both: a namespace-wide Sidecar limiting each proxy to 10 services (off)
  --allow-cpu-idle         let the CPUs halt between changes
  --help                   this text`;

function options() {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (e) {
    process.stderr.write(`bench:control: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const OPTIONS = {
  help: { type: 'boolean', default: false },
  quick: { type: 'boolean', default: false },
  proxies: { type: 'string' },
  services: { type: 'string' },
  changes: { type: 'string', default: '5' },
  warmup: { type: 'string', default: '2' },
  'kind-budget': { type: 'string', default: '45' },
  timeout: { type: 'string' },
  'no-pin': { type: 'boolean', default: false },
  profile: { type: 'string' },
  'profile-interval': { type: 'string' },
  'gc-trace': { type: 'string' },
  debounce: { type: 'string', default: '10' },
  protocol: { type: 'string', default: 'delta' },
  'sidecar-scope': { type: 'string', default: 'off' },
  'allow-cpu-idle': { type: 'boolean', default: false },
} as const;
const { values: args } = options();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const list = (v: string | undefined, fallback: number[]) => (v === undefined ? fallback : v.split(',').map(Number));
const proxiesList = list(args.proxies, args.quick ? [100] : [100, 1000]);
const servicesList = list(args.services, args.quick ? [100] : [100, 1000]);
const profileDir = args.profile ?? process.env['WEFT_BENCH_CPU_PROF'];
const profileIntervalUs = args['profile-interval'] === undefined ? undefined : Number(args['profile-interval']);
if (profileIntervalUs !== undefined && !(Number.isInteger(profileIntervalUs) && profileIntervalUs > 0)) throw new Error(`--profile-interval: a positive number of µs (got ${JSON.stringify(args['profile-interval'])})`);
const gcTraceDir = args['gc-trace'];
if (gcTraceDir !== undefined) mkdirSync(gcTraceDir, { recursive: true });
const protocols: AdsProtocol[] = args.protocol === 'both' ? ['delta', 'sotw'] : [args.protocol as AdsProtocol];
for (const p of protocols) if (p !== 'delta' && p !== 'sotw') throw new Error(`--protocol: delta, sotw or both (got ${JSON.stringify(args.protocol)})`);
const scopes = { off: [false], on: [true], both: [false, true] }[args['sidecar-scope'] as 'off' | 'on' | 'both'];
if (scopes === undefined) throw new Error(`--sidecar-scope: off, on or both (got ${JSON.stringify(args['sidecar-scope'])})`);

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function placement(): Placement {
  const cores = availableParallelism();
  if (args['no-pin'] || cores < 2 || !hasTaskset()) return { cores, pinned: false };
  // The orchestrator mostly waits; it shares the sidecars' CPUs so the control plane has its own.
  const fleet = cores === 2 ? '1' : `1-${cores - 1}`;
  execFileSync('taskset', ['-p', '-c', fleet, String(process.pid)], { stdio: 'ignore' });
  return { cores, pinned: true, controlCpus: '0', fleetCpus: fleet };
}

const cpuLatency = cpuLatencyIf(!args['allow-cpu-idle'], '--allow-cpu-idle');
const place: Placement = { ...placement(), cpuIdle: cpuIdleOf(cpuLatency) };
const startedAt = new Date();
const commit = gitCommit(import.meta.dirname);
console.log(`weft control plane at scale — ${startedAt.toISOString()}, commit ${commit}`);
console.log(`machine: ${machine()}`);
console.log(place.pinned
  ? `CPUs: control plane pinned to CPU ${place.controlCpus} (1 core); simulated sidecars and this orchestrator on CPU ${place.fleetCpus} (${place.cores - 1} core${place.cores > 2 ? 's' : ''}); ${place.cores} in total`
  : `CPUs: not pinned: control plane, simulated sidecars and orchestrator share ${place.cores} cores`);
console.log(`${cpuIdleLine(cpuLatency, 'changes')}${cpuLatency.held ? '; --allow-cpu-idle lets them halt' : ''}`);
console.log(`debounce ${args.debounce} ms; ${args.changes} changes of each kind per cell (fewer once a kind took ${args['kind-budget']} s), after ${args.warmup} untimed warm-up change${args.warmup === '1' ? '' : 's'}${profileDir === undefined ? '' : `; CPU profiles in ${profileDir}`}`);
console.log(`changes: VirtualService = an 80/20-style split on svc-0 applied over HTTP (RDS); endpoint = svc-0's v1 WorkloadEntry moves (EDS);
         workload join = a new svc-0 sidecar connects, the registry's endpoint-only path (EDS; counts include the new sidecar's own sync)\n`);

const cells: CellResult[] = [];
for (const scoped of scopes) for (const protocol of protocols) for (const services of servicesList) {
  for (const proxies of proxiesList) {
    const name = `${protocol}${scoped ? '-scoped' : ''}-${proxies}x${services}`;
    const timeoutMs = args.timeout === undefined ? 60_000 + 0.3 * proxies * services : Number(args.timeout) * 1000;
    const cell = await runCell({
      protocol, scoped, proxies, services, changes: Number(args.changes), warmup: Number(args.warmup), kindBudgetMs: Number(args['kind-budget']) * 1000, timeoutMs, debounceMs: Number(args.debounce),
      controlCpus: place.controlCpus, fleetCpus: place.fleetCpus,
      ...(profileDir === undefined ? {} : { profileDir: join(profileDir, name), profileIntervalUs }),
      ...(gcTraceDir === undefined ? {} : { gcTraceFile: join(gcTraceDir, `${name}.log`) }),
    });
    printCell(cell);
    cells.push(cell);
  }
}
printTargets(cells);
cpuLatency.release();

const outDir = join(import.meta.dirname, 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'control.json'), `${JSON.stringify({ date: startedAt.toISOString(), commit, machine: machine(), placement: place, debounceMs: Number(args.debounce), cells }, null, 2)}\n`);
console.log(`\nraw figures: ${join('bench', 'results', 'control.json')}`);
