/**
 * From figures to verdicts and Markdown, on made-up results: each goal is met or missed by the right
 * amount (absolute and as a multiple), missing figures say "not measured" (never a verdict from NaN),
 * a timed-out control cell is a miss, and BENCHMARKS.md shows the goals table with every
 * section and no undefined or NaN leaking into it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CellResult } from '../control/cell.ts';
import type { ControlRun } from './control-plane.ts';
import { goals } from './goals.ts';
import type { PathRun } from './http1.ts';
import { renderMarkdown } from './markdown.ts';
import type { MaxRow } from './max.ts';
import type { BenchResults } from './results.ts';
import { cpuBusy, wasBusy } from './run-info.ts';

const pct = (p50: number, p99: number) => ({ p50, p90: (p50 + p99) / 2, p99, p999: p99, max: p99, mean: p50 });

function run(proxy: PathRun['proxy'], hops: number, connections: number, addedP99: number, cpu: number, peakMB: number): PathRun {
  const load = { scheduled: 1000, completed: 1000, errors: 0, errorSamples: [], durationS: 1, achievedRps: 1000, corrected: pct(1000, 2000 + addedP99), uncorrected: pct(900, 1500) };
  const inst = { label: `${proxy} a`, vcpu: cpu, cpuPer1000: cpu, rssMB: peakMB, peakMB, anonMB: peakMB / 2, fileMB: peakMB / 2 };
  const path = proxy === 'direct' ? 'direct' : `${proxy} ${hops} hop${hops === 1 ? '' : 's'}`;
  return { path, proxy, hops, connections, rate: 1000, load, instances: proxy === 'direct' ? [] : Array.from({ length: hops }, () => inst), ...(proxy === 'direct' ? {} : { added: { p50: 100, p90: 200, p99: addedP99, p999: addedP99 } }) };
}

const http1: PathRun[] = [1, 4].flatMap((c) => [
  run('direct', 0, c, 0, 0, 0),
  run('weft', 1, c, 500, 0.3, 120), run('weft', 2, c, c === 1 ? 3000 : 800, 0.25, 125),
  run('nginx', 1, c, 50, 0.05, 6), run('nginx', 2, c, 1000, 0.06, 6),
  run('haproxy', 1, c, 60, 0.07, 15), run('haproxy', 2, c, 900, 0.07, 15),
]);

const maxRow = (proxy: MaxRow['proxy'], rps: number, vcpu: number): MaxRow => ({ path: proxy === 'direct' ? 'direct' : `${proxy} 1 hop`, proxy, tool: 'wrk -t1', connections: 16, durationS: 10, rps, errors: 0, process: proxy, vcpu, rssMB: 10, peakMB: 10 });
const max = [maxRow('direct', 20000, 0.9), maxRow('weft', 8000, 1.0), maxRow('nginx', 16000, 0.6), maxRow('haproxy', 15000, 0.6)];

const change = (p99: number, missing = 0) => ({ changes: 5, latencyMs: { n: 5000, p50: p99 / 2, p90: p99, p99, max: p99, mean: p99 / 2 }, lastAckPerChangeMs: [p99], warmupLastAckMs: [], cpuToLastAckS: [0.1], cpuTotalS: [0.1], fleetCpuMs: [1], fleetGcMs: [0], pushTimeMs: [12], received: {}, serverPushes: {}, triggers: {}, missing, responseBytes: { n: 1, p50: 900, p90: 900, p99: 900, max: 900, mean: 900 } });
function cell(proxies: number, services: number, vs: number, ep: number, peakMB: number, missing = 0): ControlRun {
  const c: CellResult = { proxies, services, protocol: 'delta', scoped: false, status: missing > 0 ? 'timed out' : 'ok', phases: [], rss: { afterConfigMB: 100, peakMB }, vsChange: change(vs, missing), endpointChange: change(ep) };
  return { proxies, services, scoped: false, cell: c, wallS: 60 };
}

describe('goals', () => {
  it('judges each goal against this run, with how much a miss is', () => {
    const g = goals({ http1, max, control: [cell(1000, 1000, 250, 80, 500), cell(2000, 1000, 900, 300, 280)] });
    assert.deepEqual(g.map((x) => x.met), [false, false, false, false, false, true]);
    assert.match(g[0]!.verdict, /missed by 0\.200 vCPU \(3\.0× the goal\)/);
    assert.match(g[0]!.anchor, /0\.20 vCPU; nginx this run: 0\.060; haproxy this run: 0\.070/);
    assert.match(g[1]!.verdict, /missed at 1 of 2 connection counts; worst by 2\.00 ms at 1 conn \(3\.0× nginx\)/);
    assert.match(g[2]!.verdict, /missed by 85\.0 MB \(3\.1× the goal\)/);
    assert.match(g[3]!.verdict, /missed by 8000 rps \(weft = 0\.50× nginx\) \(nginx at 0\.60 vCPU was not its own bottleneck/);
    assert.match(g[4]!.verdict, /missed by 150 ms \(2\.5× the goal\)/);
    assert.match(g[4]!.measured, /VirtualService change 250 ms, endpoint change 80 ms/);
    assert.equal(g[5]!.verdict, 'met');
  });

  it('says "not measured" for what the run lacks, and a timed-out cell is a miss', () => {
    const g = goals({ http1: [], max: [], control: [cell(1000, 1000, 50, 50, 200, 3)] });
    assert.deepEqual(g.map((x) => x.met), [undefined, undefined, undefined, undefined, false, undefined]);
    for (const x of [g[0]!, g[1]!, g[2]!, g[3]!, g[5]!]) assert.match(x.verdict, /^not measured/);
    assert.match(g[4]!.verdict, /did not converge/);
    assert.match(g[5]!.verdict, /2000×1000 not in this run's cells/);
  });
});

describe('BENCHMARKS.md', () => {
  const results: BenchResults = {
    info: { date: '2026-01-01T00:00:00.000Z', commit: 'abc1234', machine: 'test CPU × 2', cpus: 2, loadAtStart: [1.5, 1, 1] },
    settings: { quick: false, rate: 1000, connections: [1, 4], warmupS: 2, durationS: 10, bodyBytes: 1024, peers: ['nginx', 'haproxy'], max: { connections: 16, durationS: 10 }, h2: { connections: 4, durationS: 10, maxClients: 16, maxStreams: 4, maxDurationS: 5 }, control: { cells: ['1000x1000'], protocol: 'delta', changes: 5, kindBudgetS: 15 }, profileS: 0, budgetS: 840 },
    placement: { client: '0', server: '1' },
    tools: { status: { nginx: { available: true, version: '1.22.1' } }, note: 'all found on PATH' },
    processes: ['app pid 1'], http1, max, h2: undefined, control: [cell(1000, 1000, 250, 80, 500)], profile: [], problems: [],
    goals: goals({ http1, max, control: [cell(1000, 1000, 250, 80, 500)] }), loadAtEnd: [1, 1, 1], wallS: 600,
  };
  const md = renderMarkdown(results);

  it('has the goals table with the issue\'s six goals, verdicts and the busy-machine warning', () => {
    assert.match(md, /\| goal \| anchor \| measured \| verdict \|/);
    for (const goal of ['Sidecar ≤ 0.10 vCPU per 1000 rps', 'Added p99 of two weft hops ≤ added p99 of two nginx hops in the same run', '≤ 40 MB RSS per proxy under load', "One proxy's maximum throughput ≥ nginx one worker, same run", 'Control plane: 1,000 proxies × 1,000 services converge ≤ 100 ms p99', '≤ 300 MB RSS at 1,000 services × 2,000 proxies']) {
      assert.ok(md.includes(`| ${goal} |`), goal);
    }
    assert.match(md, /the machine was busy with other work/);
  });

  it('judges busy by the CPU share measured before the start when there is one, not the load average', () => {
    const quiet = renderMarkdown({ ...results, info: { ...results.info, busyAtStart: 0.03, waitedS: 12 } });
    assert.doesNotMatch(quiet, /the machine was busy with other work/);
    assert.match(quiet, /CPUs 3 % busy in the 2 s before the start after waiting 12 s for other work to finish; load average 1\.5 \/ 1 \/ 1/);
    assert.equal(wasBusy({ ...results.info, busyAtStart: 0.3 }), true);
    assert.equal(wasBusy({ ...results.info, loadAtStart: [0.1, 1, 1] }), false);
  });

  it('says whether the CPUs polled or could halt, and nothing for results that predate it', () => {
    assert.doesNotMatch(md, /CPU idle:/);
    assert.match(renderMarkdown({ ...results, cpuIdle: 'polling' }), /- CPU idle: \*\*the CPUs polled instead of halting\*\* \(`--poll-cpus`/);
    assert.match(renderMarkdown({ ...results, cpuIdle: 'halting' }), /- CPU idle: the CPUs halted between requests, as on a user's machine/);
  });

  it('has every section, the ratios, and no undefined or NaN', () => {
    for (const h of ['## Data plane', '### Latency added over direct', '### Cost per proxy', '### Ratios', '### Maximum throughput', '## Control plane at scale', '## Missed goals and the next optimisation', '## Reproduce']) assert.ok(md.includes(h), h);
    assert.match(md, /\| 2 hops \| 1 \| 1\.00× \| 1\.00× \| /);
    assert.match(md, /\| maximum throughput, one proxy \(rps\) \| 8000 \| 16000 \| 15000 \| 0\.50× \| 0\.53× \|/);
    assert.doesNotMatch(md, /undefined|NaN/);
  });
});

describe('cpuBusy', () => {
  it('measures the share of the CPUs busy over a window, from /proc/stat', async () => {
    const busy = await cpuBusy(100);
    assert.ok(busy !== undefined && busy >= 0 && busy <= 1, String(busy));
  });
});
