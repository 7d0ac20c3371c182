/**
 * What the proxy benchmark prints: per connection count, each scenario's latency percentiles (from the
 * scheduled send time), latency added over direct, achieved rate, errors, and the proxies' CPU per
 * 1000 rps and memory; then the targets of issue 4 with what was measured and whether it was met.
 */
import type { OpenLoopResult, Percentiles } from './generator.ts';
import type { MaxThroughput } from './max-throughput.ts';
import type { ProcessUsage } from './run.ts';

export type ScenarioName = 'direct' | 'one proxy' | 'two proxies';

export interface ScenarioResult {
  readonly scenario: ScenarioName;
  readonly connections: number;
  readonly rate: number;
  readonly load: OpenLoopResult;
  /** The proxies on the path (none for direct). */
  readonly proxies: readonly ProcessUsage[];
  /** Latency over direct at the same connection count, µs (undefined for direct). */
  readonly added?: Pick<Percentiles, 'p50' | 'p90' | 'p99' | 'p999'>;
}

export interface Target {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

const ms = (us: number) => (us / 1000).toFixed(3);
const signed = (us: number) => `${us >= 0 ? '+' : ''}${ms(us)}`;
const pad = (s: string, n: number) => s.padStart(n);

export function cpuPer1000(usage: ProcessUsage, achievedRps: number): number {
  return achievedRps > 0 ? usage.vcpu / (achievedRps / 1000) : NaN;
}

export function addedOver(direct: Percentiles, p: Percentiles): NonNullable<ScenarioResult['added']> {
  return { p50: p.p50 - direct.p50, p90: p.p90 - direct.p90, p99: p.p99 - direct.p99, p999: p.p999 - direct.p999 };
}

export function printConnections(rows: readonly ScenarioResult[]): void {
  const first = rows[0];
  if (first === undefined) return;
  console.log(`\n${first.rate} rps over ${first.connections} connection${first.connections === 1 ? '' : 's'} (ms from the scheduled send, timer-late by ≤ ~1 ms on every path; "+" = added over direct; svc = from the actual write)`);
  console.log(`${'scenario'.padEnd(12)}${pad('p50', 9)}${pad('p90', 9)}${pad('p99', 9)}${pad('p99.9', 9)}${pad('max', 9)}${pad('+p50', 9)}${pad('+p90', 9)}${pad('+p99', 9)}${pad('svc p50', 9)}${pad('svc p99', 9)}${pad('rps', 7)}${pad('errors', 7)}  proxies: vCPU/1000rps, RSS MB (anon, peak)`);
  for (const r of rows) {
    const c = r.load.corrected;
    const added = r.added === undefined ? ['', '', ''] : [signed(r.added.p50), signed(r.added.p90), signed(r.added.p99)];
    const proxies = r.proxies.map((u) => `${u.name} ${cpuPer1000(u, r.load.achievedRps).toFixed(3)}, ${u.rssMB.toFixed(1)} (${u.anonMB.toFixed(1)}, ${u.peakMB.toFixed(1)})`).join('; ');
    console.log(`${r.scenario.padEnd(12)}${pad(ms(c.p50), 9)}${pad(ms(c.p90), 9)}${pad(ms(c.p99), 9)}${pad(ms(c.p999), 9)}${pad(ms(c.max), 9)}${added.map((a) => pad(a, 9)).join('')}${pad(ms(r.load.uncorrected.p50), 9)}${pad(ms(r.load.uncorrected.p99), 9)}${pad(r.load.achievedRps.toFixed(0), 7)}${pad(String(r.load.errors), 7)}  ${proxies}`);
    for (const e of r.load.errorSamples) console.log(`    error: ${e}`);
  }
}

export function targets(rows: readonly ScenarioResult[], max: MaxThroughput | undefined): Target[] {
  const proxied = rows.filter((r) => r.proxies.length > 0);
  const cpu = Math.max(...proxied.flatMap((r) => r.proxies.map((u) => cpuPer1000(u, r.load.achievedRps))));
  const peak = Math.max(...rows.flatMap((r) => r.proxies.map((u) => u.peakMB)));
  const anon = Math.max(...rows.flatMap((r) => r.proxies.map((u) => u.anonMB)));
  const two = rows.filter((r) => r.scenario === 'two proxies' && r.added !== undefined);
  const worstP99 = Math.max(...two.map((r) => r.added!.p99));
  const worstAt = two.find((r) => r.added!.p99 === worstP99)?.connections;
  const errors = rows.reduce((s, r) => s + r.load.errors, 0);
  const out: Target[] = [
    { goal: 'proxy CPU ≤ 0.10 vCPU per 1000 rps (worst proxy, worst run)', measured: `${cpu.toFixed(3)} vCPU`, met: cpu <= 0.10 },
    { goal: 'proxy RSS ≤ 40 MB (peak VmHWM under the open-loop load)', measured: `${peak.toFixed(1)} MB (anon ≤ ${anon.toFixed(1)})`, met: peak <= 40 },
    { goal: 'two proxies add ≤ 1 ms p99 over direct (worst connection count)', measured: `${signed(worstP99)} ms at ${worstAt} conn`, met: worstP99 <= 1000 },
    { goal: 'no failed request at the fixed rate', measured: `${errors} errors`, met: errors === 0 },
  ];
  if (max !== undefined) {
    out.push({ goal: 'closed-loop max throughput of one proxy (reported, no target)', measured: `${max.rps.toFixed(0)} rps at ${max.proxy.vcpu.toFixed(2)} vCPU, ${max.errors} errors`, met: max.errors === 0 });
  }
  return out;
}

export function printTargets(list: readonly Target[]): void {
  console.log('\ntargets (issue 4)');
  const width = Math.max(...list.map((t) => t.goal.length)) + 2;
  const mwidth = Math.max(...list.map((t) => t.measured.length)) + 2;
  console.log(`${'goal'.padEnd(width)}${'measured'.padEnd(mwidth)}met`);
  for (const t of list) console.log(`${t.goal.padEnd(width)}${t.measured.padEnd(mwidth)}${t.met ? 'yes' : 'NO'}`);
}
