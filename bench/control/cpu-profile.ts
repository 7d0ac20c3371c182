/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and ranks functions by self time and by total
 * (inclusive) time, within time windows. V8 stamps samples with the monotonic clock in microseconds,
 * the clock of `process.hrtime` on Linux, so windows recorded by the orchestrator select the samples of
 * one benchmark phase in the control plane's profile.
 * Usage on its own: `node bench/control/cpu-profile.ts <file.cpuprofile> [top]` (whole profile).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Window {
  readonly startUs: number;
  readonly endUs: number;
}

export interface FunctionTime {
  readonly fn: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

export interface Ranking {
  /** Busy time sampled in the windows (idle excluded). */
  readonly busyMs: number;
  readonly bySelf: readonly FunctionTime[];
  readonly byTotal: readonly FunctionTime[];
}

const ROOT = pathToFileURL(`${import.meta.dirname}/../../`).href;

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url === '' ? '' : ` ${url.startsWith(ROOT) ? url.slice(ROOT.length) : url.replace(/^.*node_modules\//, '')}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** Self and total time per function for the samples inside `windows` (all samples when empty). */
export function rank(profile: CpuProfile, windows: readonly Window[], top = 15): Ranking {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busyUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    if (windows.length > 0 && !windows.some((w) => t >= w.startUs && t <= w.endUs)) continue;
    const leaf = byId.get(profile.samples[i]!);
    if (leaf === undefined || leaf.callFrame.functionName === '(idle)') continue;
    busyUs += weight;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + weight);
    const onStack = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) onStack.add(label(byId.get(id)!));
    for (const fn of onStack) total.set(fn, (total.get(fn) ?? 0) + weight);
  }
  const row = (fn: string): FunctionTime => ({ fn, selfMs: (self.get(fn) ?? 0) / 1000, totalMs: (total.get(fn) ?? 0) / 1000 });
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([fn]) => row(fn));
  return {
    busyMs: busyUs / 1000,
    bySelf: sorted(self).slice(0, top),
    byTotal: sorted(total).filter((f) => f.fn.includes('src/')).slice(0, top),
  };
}

export function formatRanking(title: string, r: Ranking): string {
  const pct = (x: number) => `${((100 * x) / Math.max(r.busyMs, 1e-9)).toFixed(1).padStart(5)}%`;
  const lines = [`  ${title}: ${r.busyMs.toFixed(0)} ms busy`, '    by self time:'];
  for (const f of r.bySelf) lines.push(`      ${f.selfMs.toFixed(0).padStart(7)} ms ${pct(f.selfMs)}  ${f.fn}`);
  lines.push('    by total time (weft functions):');
  for (const f of r.byTotal) lines.push(`      ${f.totalMs.toFixed(0).padStart(7)} ms ${pct(f.totalMs)}  ${f.fn}`);
  return lines.join('\n');
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: node bench/control/cpu-profile.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatRanking(file, rank(readProfile(file), [], Number(top ?? 25))));
}
