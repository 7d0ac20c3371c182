/**
 * The goals of issue 6, each checked against this run's figures: the goal as the issue states it, its
 * anchor (the published figure it is set against, and the peers' figures from the same run), what weft
 * measured, and the verdict: met, or missed by how much (absolute and as a multiple).
 */
import type { ControlRun } from './control-plane.ts';
import type { PathRun } from './http1.ts';
import type { MaxRow } from './max.ts';

export interface Goal {
  readonly goal: string;
  readonly anchor: string;
  readonly measured: string;
  /** `met`, `missed by …`, or `not measured (…)`. */
  readonly verdict: string;
  /** undefined: not measured. */
  readonly met: boolean | undefined;
}

export interface GoalInputs {
  readonly http1: readonly PathRun[];
  readonly max: readonly MaxRow[];
  readonly control: readonly ControlRun[];
}

const ms = (us: number) => (us / 1000).toFixed(2);
const fixed = (n: number, d: number) => (Number.isFinite(n) ? n.toFixed(d) : '—');

function missed(measured: number, goal: number, unit: string, digits: number): string {
  return `missed by ${fixed(measured - goal, digits)} ${unit} (${fixed(measured / goal, 1)}× the goal)`;
}

function verdictAtMost(measured: number, goal: number, unit: string, digits: number): Pick<Goal, 'verdict' | 'met'> {
  if (!Number.isFinite(measured)) return { verdict: 'not measured', met: undefined };
  return measured <= goal ? { verdict: 'met', met: true } : { verdict: missed(measured, goal, unit, digits), met: false };
}

function instancesOf(runs: readonly PathRun[], proxy: string) {
  return runs.filter((r) => r.proxy === proxy).flatMap((r) => r.instances.map((i) => ({ run: r, i })));
}

function worstCpu(runs: readonly PathRun[], proxy: string): { value: number; where: string } {
  const all = instancesOf(runs, proxy).filter((x) => Number.isFinite(x.i.cpuPer1000));
  const worst = all.reduce<(typeof all)[number] | undefined>((w, x) => (w === undefined || x.i.cpuPer1000 > w.i.cpuPer1000 ? x : w), undefined);
  return worst === undefined ? { value: NaN, where: '' } : { value: worst.i.cpuPer1000, where: `${worst.i.label}, ${worst.run.path}, ${worst.run.connections} conn` };
}

function cpuGoal(runs: readonly PathRun[]): Goal {
  const weft = worstCpu(runs, 'weft');
  const peers = (['nginx', 'haproxy'] as const).map((p) => ({ p, w: worstCpu(runs, p) })).filter((x) => Number.isFinite(x.w.value));
  return {
    goal: 'Sidecar ≤ 0.10 vCPU per 1000 rps',
    anchor: `Istio 1.24 Envoy sidecar with mTLS and telemetry: 0.20 vCPU${peers.map((x) => `; ${x.p} this run: ${fixed(x.w.value, 3)}`).join('')}`,
    measured: Number.isFinite(weft.value) ? `${fixed(weft.value, 3)} vCPU (worst: ${weft.where}; plaintext, no telemetry)` : 'not measured',
    ...verdictAtMost(weft.value, 0.10, 'vCPU', 3),
  };
}

function addedP99(runs: readonly PathRun[], proxy: string, hops: number, connections: number): number | undefined {
  return runs.find((r) => r.proxy === proxy && r.hops === hops && r.connections === connections)?.added?.p99;
}

function latencyGoal(runs: readonly PathRun[]): Goal {
  const goal = 'Added p99 of two weft hops ≤ added p99 of two nginx hops in the same run';
  const counts = [...new Set(runs.map((r) => r.connections))];
  const pairs = counts.flatMap((c) => {
    const w = addedP99(runs, 'weft', 2, c);
    const n = addedP99(runs, 'nginx', 2, c);
    return w === undefined || n === undefined ? [] : [{ c, w, n }];
  });
  if (pairs.length === 0) return { goal, anchor: 'nginx two hops: not measured', measured: 'not measured', verdict: 'not measured', met: undefined };
  const misses = pairs.filter((p) => p.w > p.n);
  const worst = misses.reduce<(typeof misses)[number] | undefined>((m, p) => (m === undefined || p.w - p.n > m.w - m.n ? p : m), undefined);
  const ratio = (p: { w: number; n: number }) => (p.n > 0 ? ` (${fixed(p.w / p.n, 1)}× nginx)` : '');
  return {
    goal,
    anchor: `nginx two hops, added p99: ${pairs.map((p) => `${ms(p.n)} ms at ${p.c} conn`).join(', ')}`,
    measured: `weft two hops, added p99: ${pairs.map((p) => `${ms(p.w)} ms at ${p.c} conn`).join(', ')}`,
    verdict: worst === undefined ? `met at every connection count (${pairs.length})` : `missed at ${misses.length} of ${pairs.length} connection counts; worst by ${ms(worst.w - worst.n)} ms at ${worst.c} conn${ratio(worst)}`,
    met: worst === undefined,
  };
}

/** The highest peak (VmHWM), RSS at the end of a run and anonymous part at the end of a run, over a proxy's instances. */
function peakRss(runs: readonly PathRun[], proxy: string): { peak: number; end: number; anon: number } {
  const all = instancesOf(runs, proxy).map((x) => x.i);
  if (all.length === 0) return { peak: NaN, end: NaN, anon: NaN };
  return { peak: Math.max(...all.map((i) => i.peakMB)), end: Math.max(...all.map((i) => i.rssMB)), anon: Math.max(...all.map((i) => i.anonMB)) };
}

function rssGoal(runs: readonly PathRun[]): Goal {
  const w = peakRss(runs, 'weft');
  const peers = (['nginx', 'haproxy'] as const).map((p) => ({ p, m: peakRss(runs, p) })).filter((x) => Number.isFinite(x.m.peak));
  return {
    goal: '≤ 40 MB RSS per proxy under load',
    anchor: `Envoy 60 MB, Linkerd 26 MB${peers.map((x) => `; ${x.p} this run: ${fixed(x.m.peak, 1)} MB`).join('')}`,
    measured: Number.isFinite(w.peak) ? `${fixed(w.peak, 1)} MB peak RSS (VmHWM); at the end of a run ≤ ${fixed(w.end, 1)} MB, of which anonymous ≤ ${fixed(w.anon, 1)} MB` : 'not measured',
    ...verdictAtMost(w.peak, 40, 'MB', 1),
  };
}

function throughputGoal(max: readonly MaxRow[]): Goal {
  const goal = "One proxy's maximum throughput ≥ nginx one worker, same run";
  const w = max.find((m) => m.proxy === 'weft');
  const n = max.find((m) => m.proxy === 'nginx');
  const h = max.find((m) => m.proxy === 'haproxy');
  const d = max.find((m) => m.proxy === 'direct');
  const row = (m: MaxRow) => `${fixed(m.rps, 0)} rps at ${fixed(m.vcpu, 2)} vCPU`;
  const anchor = [n === undefined ? 'nginx: not measured' : `nginx one worker: ${row(n)}`, ...(h === undefined ? [] : [`HAProxy one thread: ${row(h)}`]), ...(d === undefined ? [] : [`app alone: ${fixed(d.rps, 0)} rps`])].join('; ');
  if (w === undefined || n === undefined) return { goal, anchor, measured: w === undefined ? 'not measured' : row(w), verdict: 'not measured', met: undefined };
  const met = w.rps >= n.rps;
  const capped = n.vcpu < 0.9 ? ` (nginx at ${fixed(n.vcpu, 2)} vCPU was not its own bottleneck: its ceiling is higher)` : '';
  return { goal, anchor, measured: row(w), verdict: met ? 'met' : `missed by ${fixed(n.rps - w.rps, 0)} rps (weft = ${fixed(w.rps / n.rps, 2)}× nginx)${capped}`, met };
}

function cell(control: readonly ControlRun[], proxies: number, services: number): ControlRun | undefined {
  return control.find((c) => c.proxies === proxies && c.services === services && !c.scoped);
}

function notRun(c: ControlRun | undefined, proxies: number, services: number): string {
  return c === undefined ? `not measured (${proxies}×${services} not in this run's cells)` : `not measured (${c.problem ?? c.cell?.status ?? 'no figures'})`;
}

function convergenceGoal(control: readonly ControlRun[]): Goal {
  const goal = 'Control plane: 1,000 proxies × 1,000 services converge ≤ 100 ms p99';
  const anchor = 'Istio (published): production convergence p90 ≈ 1.5 s';
  const c = cell(control, 1000, 1000);
  const vs = c?.cell?.vsChange;
  const ep = c?.cell?.endpointChange;
  const timedOut = [vs, ep].reduce((n, f) => n + (f?.missing ?? 0), 0);
  if (timedOut > 0) {
    // A p99 over the sidecars that made it in time would flatter: the cell did not converge within its time.
    return { goal, anchor, measured: `${timedOut} sidecar ACKs missing when the cell timed out`, verdict: 'missed (did not converge before the cell timed out)', met: false };
  }
  const p99 = (f: typeof vs) => f?.latencyMs?.p99 ?? NaN;
  const worst = Math.max(p99(vs), p99(ep));
  if (!Number.isFinite(worst)) return { goal, anchor, measured: notRun(c, 1000, 1000), verdict: notRun(c, 1000, 1000), met: undefined };
  return { goal, anchor, measured: `VirtualService change ${fixed(p99(vs), 0)} ms, endpoint change ${fixed(p99(ep), 0)} ms (p99 to the last ACK)`, ...verdictAtMost(worst, 100, 'ms', 0) };
}

function controlRssGoal(control: readonly ControlRun[]): Goal {
  const goal = '≤ 300 MB RSS at 1,000 services × 2,000 proxies';
  const anchor = 'istiod: 1.5 GB';
  const c = cell(control, 2000, 1000);
  const peak = c?.cell?.rss?.peakMB ?? NaN;
  if (!Number.isFinite(peak)) return { goal, anchor, measured: notRun(c, 2000, 1000), verdict: notRun(c, 2000, 1000), met: undefined };
  return { goal, anchor, measured: `${fixed(peak, 0)} MB peak RSS (control plane)`, ...verdictAtMost(peak, 300, 'MB', 0) };
}

export function goals(inputs: GoalInputs): Goal[] {
  return [cpuGoal(inputs.http1), latencyGoal(inputs.http1), rssGoal(inputs.http1), throughputGoal(inputs.max), convergenceGoal(inputs.control), controlRssGoal(inputs.control)];
}
