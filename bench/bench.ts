/**
 * `npm run bench [-- --quick]`: one reproducible run that measures weft side by side with direct
 * traffic, nginx and HAProxy, and the control plane at scale, then writes BENCHMARKS.md and
 * bench/results/benchmarks.json (figures from this run only). In order: the HTTP/1.1 open-loop matrix
 * (direct, then weft, nginx and HAProxy one and two hops at each connection count), maximum throughput
 * of one proxy each (wrk), HTTP/2 and gRPC through weft, a profiled weft run, then the control-plane
 * cells (bench/control.bench.ts, one invocation per cell) within what is left of the time budget.
 * Bounded: every process is killed at the end, even on failure or Ctrl-C. Parts live in bench/compare/.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { keepControlResults, parseCells, runControlCell, type ControlRun } from './compare/control-plane.ts';
import { goals } from './compare/goals.ts';
import { runH2, type H2Results } from './compare/h2.ts';
import { runMatrix, settle, type PathRun } from './compare/http1.ts';
import { renderMarkdown } from './compare/markdown.ts';
import { runMaxThroughput, type MaxRow } from './compare/max.ts';
import type { PeerKind } from './compare/peers.ts';
import { killAll, tempFolder } from './compare/processes.ts';
import { profileProxies, type ProxyProfile } from './compare/profile.ts';
import type { BenchResults, Placement, Settings } from './compare/results.ts';
import { awaitQuiet, busyLine, runInfo, wasBusy } from './compare/run-info.ts';
import { ensureTools, has } from './compare/tools.ts';
import { cpuIdleLine, cpuIdleOf, pollCpusIf } from './cpu-latency.ts';
import { startTopology } from './compare/topology.ts';

const HELP = `npm run bench [-- options]: weft vs direct, nginx and HAProxy, and the control plane at scale → BENCHMARKS.md
  --quick                 about a minute: 4 connections, short runs, control plane 100x100
  --rate N                fixed request rate of the open loop (1000)
  --connections LIST      HTTP/1.1 connection counts (1,4,16,64; quick 4)
  --duration S            recorded seconds per open-loop run (8; quick 2)
  --warmup S              warm-up seconds before each run (2; quick 1)
  --settle S              seconds of load through every two-hop path before the first recorded run,
                          so that V8 has compiled the proxies' hot code (10; quick 2; 0 skips)
  --max-connections N     wrk connections for maximum throughput (16)
  --max-duration S        wrk seconds, 0 skips (8; quick 2)
  --h2-connections N      HTTP/2 connections of the open loop (4)
  --h2-duration S         HTTP/2 and gRPC recorded seconds, 0 skips them (8; quick 2)
  --h2load-duration S     h2load seconds for HTTP/2 maximum throughput, 0 skips (5; quick 0)
  --peers LIST            nginx,haproxy (both)
  --control-cells LIST    PROXIESxSERVICES[s] cells, s = Sidecar-scoped (100x100,1000x100,100x1000,1000x1000,1000x1000s,2000x100,2000x1000: small ones first, so the time budget reaches most; quick 100x100)
  --control-protocol P    delta | sotw (delta, as weft proxy speaks)
  --control-changes N     changes of each kind per cell (5; quick 3)
  --control-kind-budget S no new change of a kind after S seconds, once two were made (10)
  --profile-duration S    seconds of the profiled weft run, 0 skips it (8; quick 0)
  --budget S              the whole run's time budget in seconds; control cells get what is left (840; quick 240)
  --no-pin                leave every process unpinned
  --poll-cpus             keep the CPUs polling instead of halting between requests (PM QoS request), to see
                          what the host's wake-ups cost (bench/proxy.bench.ts); not the figures to quote
  --out FILE              where BENCHMARKS.md goes (the repository root), the raw figures beside it (FILE with .json)`;

const { values: a } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    rate: { type: 'string', default: '1000' },
    connections: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    settle: { type: 'string' },
    'max-connections': { type: 'string', default: '16' },
    'max-duration': { type: 'string' },
    'h2-connections': { type: 'string', default: '4' },
    'h2-duration': { type: 'string' },
    'h2load-duration': { type: 'string' },
    peers: { type: 'string', default: 'nginx,haproxy' },
    'control-cells': { type: 'string' },
    'control-protocol': { type: 'string', default: 'delta' },
    'control-changes': { type: 'string' },
    'control-kind-budget': { type: 'string' },
    'profile-duration': { type: 'string' },
    budget: { type: 'string' },
    pin: { type: 'boolean', default: true },
    'poll-cpus': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
  allowNegative: true,
});
if (a.help) {
  console.log(HELP);
  process.exit(0);
}

const ROOT = join(import.meta.dirname, '..');
const q = a.quick;
const num = (name: string, v: string | undefined, fallback: number): number => {
  const n = Number(v ?? fallback);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: expected a number ≥ 0, got ${JSON.stringify(v)}`);
  return n;
};
const peers = a.peers.split(',').filter(Boolean).map((p) => {
  if (p !== 'nginx' && p !== 'haproxy') throw new Error(`--peers: nginx and/or haproxy, got "${p}"`);
  return p as PeerKind;
});
const cells = parseCells(a['control-cells'] ?? (q ? '100x100' : '100x100,1000x100,100x1000,1000x1000,1000x1000s,2000x100,2000x1000'));
const settings: Settings = {
  quick: q, rate: num('rate', a.rate, 1000), bodyBytes: 1024, peers,
  connections: (a.connections ?? (q ? '4' : '1,4,16,64')).split(',').map((c) => num('connections', c, 4)),
  warmupS: num('warmup', a.warmup, q ? 1 : 2), durationS: num('duration', a.duration, q ? 2 : 8),
  settleS: num('settle', a.settle, q ? 2 : 10),
  max: { connections: num('max-connections', a['max-connections'], 16), durationS: num('max-duration', a['max-duration'], q ? 2 : 8) },
  h2: { connections: num('h2-connections', a['h2-connections'], 4), durationS: num('h2-duration', a['h2-duration'], q ? 2 : 8), maxClients: 16, maxStreams: 4, maxDurationS: num('h2load-duration', a['h2load-duration'], q ? 0 : 5) },
  control: { cells: cells.map((c) => `${c.proxies}x${c.services}${c.scoped ? 's' : ''}`), protocol: a['control-protocol'], changes: num('control-changes', a['control-changes'], q ? 3 : 5), kindBudgetS: num('control-kind-budget', a['control-kind-budget'], 10) },
  profileS: num('profile-duration', a['profile-duration'], q ? 0 : 8),
  budgetS: num('budget', a.budget, q ? 240 : 840),
};

function placement(): Placement | undefined {
  const n = info.cpus;
  if (!a.pin || n < 2) return undefined;
  const half = Math.floor(n / 2);
  const list = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);
  return { client: list(0, half - 1), server: list(half, n - 1) };
}

const started = performance.now();
const deadline = started + settings.budgetS * 1000;
// A test run or benchmark that just ended still shows in the CPUs for a while: wait for them to calm down (bounded).
const info = runInfo(ROOT, await awaitQuiet(q ? 10 : 60));
const where = placement();
// bench:control holds its own request (its default) for its cells.
const cpuLatency = pollCpusIf(a['poll-cpus']);
const problems: string[] = [];
console.log(`weft benchmarks — ${info.date}, commit ${info.commit}${q ? ' (--quick)' : ''}\nmachine: ${info.machine}; ${busyLine(info)}`);
if (wasBusy(info)) console.log('warning: the machine is busy, figures will be noisy (take final figures on a quiet machine)');
console.log(where === undefined ? 'placement: unpinned' : `placement (taskset): client side CPU ${where.client} (generator, proxy A of each pair); server side CPU ${where.server} (app, proxy B of each pair, weft control, wrk/h2load)`);
console.log(cpuIdleLine(cpuLatency, 'requests'));
const tools = ensureTools([...peers, 'wrk', 'h2load', 'taskset', 'perf', 'jemalloc']);
console.log(`tools: ${Object.entries(tools.status).map(([t, s]) => `${t} ${s.version}`).join(', ')} (${tools.note})`);
const usablePeers = peers.filter((p) => has(tools, p));
for (const p of peers.filter((x) => !usablePeers.includes(x))) problems.push(`${p} is not installed: its rows are missing`);
// A sidecar's first start after a code change also compiles; do it once before anything is measured.
execFileSync(process.execPath, [join(ROOT, 'bin', 'weft.js'), 'proxy', '--help'], { stdio: 'ignore' });

const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

async function section<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  console.log(`\n[${elapsed()}] ${name}`);
  try {
    return await run();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`\n${name} failed: ${message}`);
    problems.push(`${name} failed: ${message.split('\n').slice(0, 3).join(' ')}`);
    return undefined;
  }
}

let http1: PathRun[] = [];
let settling: PathRun[] = [];
let max: MaxRow[] = [];
let h2: H2Results | undefined;
let processes: readonly string[] = [];
await section('data plane', async () => {
  const topo = await startTopology(where, usablePeers);
  try {
    processes = topo.processes;
    console.log(`\nprocesses:\n${processes.map((p) => `  ${p}`).join('\n')}`);
    const load = { rate: settings.rate, warmupS: settings.warmupS, durationS: settings.durationS, cpus: where?.client };
    settling = (await section('settling', () => settle(topo.paths, settings.settleS ?? 0, load))) ?? [];
    http1 = (await section('HTTP/1.1 open loop', () => runMatrix(topo.paths, settings.connections, load))) ?? [];
    if (settings.max.durationS > 0) {
      console.log(`\nmaximum throughput of one proxy (wrk -t1, ${settings.max.connections} connections, ${settings.max.durationS} s; wrk on the server side)`);
      max = (await section('maximum throughput', () => runMaxThroughput(topo.paths, topo.appPid, { connections: settings.max.connections, durationS: settings.max.durationS, useWrk: has(tools, 'wrk'), cpus: where?.server }))) ?? [];
    }
    if (settings.h2.durationS > 0) {
      const s = settings.h2;
      h2 = await section('HTTP/2 and gRPC', () => runH2(topo.mesh, where, { rate: settings.rate, warmupS: settings.warmupS, durationS: s.durationS, cpus: where?.client, connections: s.connections, maxDurationS: s.maxDurationS, maxClients: s.maxClients, maxStreams: s.maxStreams, maxCpus: where?.server, h2load: has(tools, 'h2load') }));
    }
  } finally {
    await topo.stop();
  }
});

let profile: ProxyProfile[] = [];
if (settings.profileS > 0) {
  console.log(`\nprofiling the weft sidecars (node --cpu-prof, ${settings.profileS} s, two hops, ${settings.rate} rps over 4 connections)`);
  profile = (await section('weft proxy profile', () => profileProxies(where, settings.rate, 4, settings.profileS, has(tools, 'perf')))) ?? [];
}

const control: ControlRun[] = [];
const restoreControlResults = keepControlResults();
// bench:control ranks the profile into its results; the profile files themselves go with the run.
const profileDir = settings.profileS > 0 ? tempFolder('weft-bench-control-prof-').dir : undefined;
for (const c of cells) {
  const leftS = (deadline - performance.now()) / 1000 - 10;
  if (leftS < 90) {
    control.push({ ...c, problem: `not run: ${Math.max(0, leftS).toFixed(0)} s left of the ${settings.budgetS} s budget`, wallS: 0 });
    continue;
  }
  console.log(`\n[${elapsed()}] control plane ${c.proxies} × ${c.services}`);
  // Only the first cell (the one convergence is judged on, in the full run) is profiled: the profiler costs a little.
  const run = await runControlCell(c, { protocol: settings.control.protocol, changes: settings.control.changes, kindBudgetS: settings.control.kindBudgetS, profileDir: c.proxies === 1000 && c.services === 1000 && !c.scoped ? profileDir : undefined }, leftS);
  if (run.problem !== undefined) problems.push(`control plane ${c.proxies}×${c.services}: ${run.problem}`);
  control.push(run);
}
restoreControlResults();
cpuLatency.release();

const results: BenchResults = {
  info, settings, placement: where, cpuIdle: cpuIdleOf(cpuLatency), tools, processes, http1, settle: settling, max, h2, control, profile, problems,
  goals: goals({ http1, max, control }), loadAtEnd: loadavg().map((x) => Math.round(x * 100) / 100), wallS: (performance.now() - started) / 1000,
};
// With --out, the raw figures go beside that file, so a trial run never replaces the repository's pair.
const md = a.out ?? join(ROOT, 'BENCHMARKS.md');
const json = a.out === undefined ? join(ROOT, 'bench', 'results', 'benchmarks.json') : md.replace(/(\.md)?$/, '.json');
mkdirSync(dirname(json), { recursive: true });
writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(md, renderMarkdown(results));
console.log(`\ngoals:\n${results.goals.map((g) => `  ${g.met === true ? 'met ' : g.met === false ? 'MISS' : '    '} ${g.goal}: ${g.measured} — ${g.verdict}`).join('\n')}`);
console.log(`\nwrote ${md} and ${json} in ${(results.wallS / 60).toFixed(1)} minutes`);
killAll();
