/**
 * BENCHMARKS.md from one run's results: the run's context (date, commit, machine, how busy it was,
 * which process ran on which CPU), the goals table, the data-plane and control-plane tables, what the
 * profiles showed, where goals were missed and what to do next, and how to reproduce. Pure: a function
 * of the results alone, so the JSON beside it can re-render it.
 */
import type { FunctionTime, Ranking } from '../control/cpu-profile.ts';
import type { Goal } from './goals.ts';
import { nextSteps } from './next-steps.ts';
import { haproxyConfig, nginxConfig } from './peer-configs.ts';
import { controlTable, costTable, fixed, fnLabel, h2MaxTable, h2Table, label, latencyTable, maxTable, meanCpu, proxyRatioTable, ratioTable, table } from './markdown-tables.ts';
import type { CpuSplit } from './perf-cpu.ts';
import type { ProxyProfile } from './profile.ts';
import type { BenchResults } from './results.ts';
import { busyLine, wasBusy } from './run-info.ts';

const esc = (s: string) => s.replace(/\|/g, '\\|');

function context(r: BenchResults): string[] {
  const busy = wasBusy(r.info);
  const tools = Object.entries(r.tools.status).map(([t, s]) => `${t} ${s.version}`).join(', ');
  const placement = r.placement === undefined
    ? 'every process unpinned (`--no-pin`)'
    : `taskset: client side = CPU ${r.placement.client} (load generator, proxy A of every pair), server side = CPU ${r.placement.server} (app, proxy B of every pair, weft control; wrk and h2load for maximum throughput, so proxy A has the client side alone)`;
  return [
    `- Date: ${r.info.date}; commit ${r.info.commit}; ${r.settings.quick ? '**`--quick` run** (reduced: not the figures to quote)' : 'full run'}, ${fixed(r.wallS / 60, 1)} minutes.`,
    `- Machine: ${r.info.machine}.`,
    `- Before the start: ${busyLine(r.info)} (1/5/15 min; at the end ${r.loadAtEnd.join(' / ')}, which counts the run's own processes)${busy ? ` — **the machine was busy with other work: figures are noisier and slower than on a quiet machine; take final figures on a quiet one**` : ''}.`,
    `- Placement: ${placement}.`,
    ...(r.cpuIdle === undefined ? [] : [`- CPU idle: ${r.cpuIdle === 'polling'
      ? '**the CPUs polled instead of halting** (`--poll-cpus`: a PM QoS request of 0 µs on /dev/cpu_dma_latency), which shows what the host\'s wake-ups cost; on this VM it also brings occasional ~100 ms stalls. Not the figures to quote'
      : 'the CPUs halted between requests, as on a user\'s machine (the control-plane cells hold bench:control\'s own PM QoS request). On this VM each halt makes the next request run slower; `--poll-cpus` shows by how much'}.`]),
    `- Tools: ${tools} (${r.tools.note}).`,
  ];
}

function goalsSection(goals: readonly Goal[]): string[] {
  return ['## Goals', '', table(['goal', 'anchor', 'measured', 'verdict'], goals.map((g) => [esc(g.goal), esc(g.anchor), esc(g.measured), g.met === true ? `✅ ${g.verdict}` : g.met === false ? `❌ ${esc(g.verdict)}` : esc(g.verdict)]), ['l', 'l', 'l', 'l'])];
}

/** What the settling runs before the tables cost: a Node proxy's first seconds, JIT compilation included. */
function settleNote(r: BenchResults): string[] {
  const runs = r.settle ?? [];
  if (runs.length === 0) return [];
  const cost = runs.map((run) => `${label(run.proxy)} ${meanCpu(run).toFixed(3)}`).join(', ');
  return ['', `Before the first recorded run, every two-hop path took ${r.settings.settleS} s of the same load over 4 connections, not recorded above: V8 compiles a Node proxy's hot code in its first seconds, and a sidecar lives for days. What those first ${r.settings.settleS} s cost, in CPU-s per 1000 requests per proxy: ${cost}.`];
}

function dataPlane(r: BenchResults): string[] {
  const s = r.settings;
  if (r.http1.length === 0) return ['## Data plane', '', 'Not measured in this run (see Problems).'];
  const out = [
    '## Data plane: HTTP/1.1 through weft, nginx and HAProxy',
    '',
    `Open loop at a fixed ${s.rate} rps (request k is scheduled at k / rate; latency counts from the scheduled send time, so a stalled proxy shows as latency: coordinated omission corrected), GET, ${s.bodyBytes}-byte responses, keep-alive connections ${s.connections.join(' / ')}, ${s.warmupS} s warm-up then ${s.durationS} s recorded per run${(s.settleS ?? 0) > 0 ? ` (after ${s.settleS} s of settling load: see Cost per proxy)` : ''}, microsecond HDR histograms. The load generator and the app are lean, as fortio's client and server in Istio's benchmark: the generator's HTTP/1.1 connections (bench/proxy/h1-client.ts) send one fixed request and read status, length and body, the app (bench/proxy/upstream.ts) answers each request head with one prepared reply; each shares a CPU with a proxy, and node:http in their place cost 0.15 and 0.065 vCPU per 1000 rps of it (sidecars measured up to ~25 % higher beside them). Paths: direct = client → app; one hop = client → proxy A → app; two hops = client → proxy A → proxy B → app (weft: sidecar A's outbound listener 15001 as the client's HTTP proxy, then sidecar B's inbound 9080; nginx ${r.tools.status.nginx?.version ?? ''} with one worker and upstream keep-alive; HAProxy ${r.tools.status.haproxy?.version ?? ''} with one thread and \`http-reuse always\`; plaintext, as weft has no mTLS yet; no access logs). weft's sidecars run on ${r.tools.status.jemalloc?.available === true ? `jemalloc ${r.tools.status.jemalloc.version} (bin/weft.js preloads it when installed)` : 'glibc\'s malloc (jemalloc, which bin/weft.js preloads when installed, was missing)'}. The peers' configuration files are written by bench/compare/peer-configs.ts (shown at the end).`,
    '',
    'Processes:',
    '',
    ...r.processes.map((p) => `- ${p}`),
    '',
    '### Latency added over direct',
    '',
    'Direct: the latency itself; every other row: what the path adds over direct at the same connection count (ms; negative = within the noise).',
    '',
    latencyTable(r.http1),
    '',
    '### Cost per proxy',
    '',
    'CPU seconds per 1000 requests (= vCPU per 1000 rps) of each proxy process on the path (mean over the path\'s proxies; nginx: master + worker), from `/proc/<pid>/stat` over exactly the recorded window; peak RSS is VmHWM of the process carrying the traffic (anonymous memory in parentheses: what is not shared file pages).',
    '',
    costTable(r.http1),
    ...settleNote(r),
    '',
    '### Ratios: weft ÷ nginx and weft ÷ HAProxy',
    '',
    'Above 1: weft adds more latency, or uses more CPU or memory, than the peer; for throughput, below 1: weft is slower.',
    '',
    ratioTable(r.http1),
    '',
    proxyRatioTable(r.http1, r.max),
    '',
    '¹ the peer added under 10 µs (or less than direct): the ratio means nothing.',
  ];
  if (r.max.length > 0) {
    out.push('', '### Maximum throughput', '', `Closed loop: wrk -t1, ${s.max.connections} connections, ${s.max.durationS} s after a 1 s warm-up, to proxy A's one-hop path (direct: to the app). wrk and the app share the server side's CPUs, so direct is the ceiling of every row; a proxy well under 1 vCPU was not its own bottleneck.`, '', maxTable(r.max));
  }
  return out;
}

function h2Section(r: BenchResults): string[] {
  const h2 = r.h2;
  if (h2 === undefined) return [];
  const s = r.settings.h2;
  const out = [
    '## HTTP/2 and gRPC through weft',
    '',
    `The same open loop over HTTP/2 (cleartext, prior knowledge; each request a new stream on connection k mod ${s.connections}): plain GETs of ${r.settings.bodyBytes} bytes, and unary gRPC calls (a ${r.settings.bodyBytes}-byte message, \`grpc-status\` checked) to an h2c app, ${r.settings.rate} rps, ${s.durationS} s recorded. Weft one hop: sidecar A → app (a port named \`grpc\`: HTTP/2 upstream); two hops: sidecar A → sidecar C (inbound 9090) → app.`,
    '',
    h2Table(h2),
  ];
  if (h2.max.length > 0) out.push('', `HTTP/2 maximum throughput: h2load -t1, ${s.maxClients} connections × ${s.maxStreams} concurrent streams, ${s.maxDurationS} s.`, '', h2MaxTable(h2));
  return out;
}

function controlSection(r: BenchResults): string[] {
  if (r.control.length === 0) return ['## Control plane', '', 'Not measured in this run.'];
  const place = r.control.find((c) => c.placement !== undefined)?.placement;
  const s = r.settings.control;
  return [
    '## Control plane at scale',
    '',
    `\`bench/control.bench.ts\` per cell (one invocation each): a real \`weft control\` serving simulated sidecars (ADS clients that ACK like real ones, ${s.protocol} xDS) for proxies × services; up to ${s.changes} changes of each kind (fewer once a kind has taken ${s.kindBudgetS} s). Convergence: from the change's apply request to each sidecar's ACK (p50 / p99 over every sidecar of every change); “control plane done”: until the control plane had written every response of the change (the rest is delivery and the simulated sidecars, which share one core). ${place?.pinned === true ? `Control plane on CPU ${place.controlCpus}, simulated sidecars on CPU ${place.fleetCpus}.` : 'Not pinned.'} Bytes per proxy: what one sidecar received (initial sync) and the response carrying a change.`,
    '',
    controlTable(r.control),
    '',
    r.control.some((c) => c.scoped)
      ? 'Sidecar-scoped rows: a namespace-wide `Sidecar` limits every proxy to 10 of the services (`bench:control --sidecar-scope on`), Istio\'s main scaling lever.'
      : 'Not measured by this run: with Sidecar scoping (add a cell such as `1000x1000s` to --control-cells).',
  ];
}

const pct = (f: FunctionTime, r: Ranking, key: 'selfMs' | 'totalMs') => `${((100 * f[key]) / Math.max(r.busyMs, 1e-9)).toFixed(1)}%`;

function topList(r: Ranking, n: number): string {
  return r.bySelf.slice(0, n).map((f) => `${fnLabel(f.fn)} ${pct(f, r, 'selfMs')}`).join(', ');
}

function profileTable(p: ProxyProfile): string {
  const cols: Array<[readonly FunctionTime[], 'selfMs' | 'totalMs']> = [[p.ranking.bySelf, 'selfMs'], [p.weftBySelf, 'selfMs'], [p.ranking.byTotal, 'totalMs']];
  const n = Math.min(8, Math.max(...cols.map(([l]) => l.length)));
  const rows = Array.from({ length: n }, (_v, i) => cols.flatMap(([list, key]) => {
    const x = list[i];
    return x === undefined ? ['', ''] : [fnLabel(x.fn), pct(x, p.ranking, key)];
  }));
  return table(['by self time', 'self', 'weft functions by self time', 'self', 'weft functions by total time', 'total'], rows, ['l', 'r', 'l', 'r', 'l', 'r']);
}

const share = (x: number) => `${(100 * x).toFixed(0)}%`;

/** The perf split of one sidecar's main thread. */
export function cpuSplitLine(proxy: string, c: CpuSplit): string {
  const top = c.top.slice(0, 8).map((t) => `\`${t.symbol}\` ${(100 * t.share).toFixed(1)}%`).join(', ');
  return `Where ${proxy}'s main thread spent its CPU (\`perf record -e cpu-clock\`, on-CPU samples over the same window, ${c.samples} samples): kernel ${share(c.shares.kernel)} (system calls, loopback TCP, wake-ups and context switches), node binary ${share(c.shares.node)} (V8's runtime, builtins and GC, libuv, Node's C++), JavaScript ${share(c.shares.javascript)} (V8-compiled code: weft's and Node's), C libraries ${share(c.shares.libraries)}. Top symbols: ${top}.`;
}

function profileSection(r: BenchResults): string[] {
  const out = ['## What the profiles show', ''];
  for (const p of r.profile) {
    out.push(`**weft proxy ${p.proxy}** (\`node --cpu-prof\`, a separate two-hop run at ${p.rate} rps over ${p.connections} connections, ${p.seconds} s recorded; ${fixed(p.cpuPer1000, 3)} CPU-s per 1000 requests under the profiler; ${fixed(p.ranking.busyMs, 0)} ms busy in the recorded window; percentages of that; V8 samples on wall-clock time, so a system call's share includes time the sidecar sat preempted in it):`, '', profileTable(p), '');
    if (p.cpu !== undefined) out.push(cpuSplitLine(p.proxy, p.cpu), '');
  }
  for (const c of r.control) {
    const rk = c.cell?.profile?.rankings;
    if (rk === undefined) continue;
    out.push(`**weft control, ${c.proxies} × ${c.services}** (\`--cpu-prof\` during the cell), by self time: VirtualService changes: ${rk['VirtualService changes'] === undefined ? '—' : topList(rk['VirtualService changes'], 6)}; endpoint changes: ${rk['endpoint changes'] === undefined ? '—' : topList(rk['endpoint changes'], 6)}.`, '');
  }
  if (out.length === 2) out.push('No profile in this run (`--profile-duration 0`, the default of `--quick`; or the profiled run failed).', '');
  return out;
}

/** The files the run writes for proxy A of each peer (ports here are examples: the run takes free ones). */
function peerConfigs(): string[] {
  const app = { host: '127.0.0.1', port: 10000 };
  const routes = [{ listen: { host: '127.0.0.1', port: 10001 }, upstream: app }, { listen: { host: '127.0.0.1', port: 10002 }, upstream: { host: '127.0.0.1', port: 10003 } }];
  const block = (title: string, text: string) => ['<details>', `<summary>${title}</summary>`, '', '```', text.trimEnd(), '```', '', '</details>', ''];
  return [
    '## The peers\' configuration',
    '',
    'As written for proxy A (one listener to the app, one to proxy B; proxy B has the first only). Ports are examples: the run takes free ones.',
    '',
    ...block('nginx', nginxConfig({ routes, dir: '/tmp/weft-bench-nginx-a-XXXXXX' })),
    ...block('HAProxy', haproxyConfig({ routes, dir: '/tmp/weft-bench-haproxy-a-XXXXXX' })),
  ];
}

export function renderMarkdown(r: BenchResults): string {
  const lines = [
    '# weft benchmarks',
    '',
    `Generated by \`npm run bench${r.settings.quick ? ' -- --quick' : ''}\` (bench/bench.ts); raw figures in [bench/results/benchmarks.json](bench/results/benchmarks.json). Every figure below was measured in this one run on this one machine, side by side: nothing is carried over from earlier runs.`,
    '',
    ...context(r),
    '',
    ...goalsSection(r.goals),
    '',
    ...dataPlane(r),
    '',
    ...h2Section(r),
    '',
    ...controlSection(r),
    '',
    ...profileSection(r),
    '## Missed goals and the next optimisation',
    '',
    ...nextSteps(r),
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm run bench                 # the whole run (under 15 minutes); writes BENCHMARKS.md and bench/results/benchmarks.json',
    'npm run bench -- --quick      # about a minute, for development: 4 connections, short runs, 100 × 100 control plane',
    'npm run bench -- --help       # every option (connections, durations, peers, control cells, budget, placement)',
    '```',
    '',
    'Run it as root on Linux with nothing else running: nginx, HAProxy, h2load (nghttp2-client) and wrk are installed from Debian when missing; every process is bound to loopback, pinned with taskset, and stopped at the end, even on failure.',
  ];
  if (r.problems.length > 0) lines.push('', '## Problems in this run', '', ...r.problems.map((p) => `- ${esc(p)}`));
  lines.push('', ...peerConfigs());
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}

