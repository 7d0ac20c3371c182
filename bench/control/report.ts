/**
 * The benchmark's printed output: one block per matrix cell (initial sync, memory, and a row per kind
 * of change), then the matrix of p99 convergence and the targets with goal, measured value and verdict.
 */
import type { CellResult, ChangeFigures } from './cell.ts';
import { formatRanking } from './cpu-profile.ts';
import type { Summary } from './stats.ts';

export interface Placement {
  readonly cores: number;
  readonly pinned: boolean;
  readonly controlCpus?: string;
  readonly fleetCpus?: string;
  /** `polling`: the run held a PM QoS request keeping the CPUs out of halt (bench/cpu-latency.ts). */
  readonly cpuIdle?: 'polling' | 'halting';
}

/** Istio's published figures, printed for scale (https://istio.io/latest/docs/ops/deployment/performance-and-scalability/). */
const ISTIO = 'Istio (published): istiod needs 1 vCPU and 1.5 GB for 1,000 services / 2,000 sidecars; production convergence p90 ≈ 1.5 s';
const TARGET_MS = 100;
const TARGET_RSS_MB = 300;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '—' : n < 10 ? n.toFixed(1) : int(n));
const mb = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(0));
const kb = (bytes: number | undefined): string => (bytes === undefined ? '—' : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);
const mean = (xs: readonly number[]): number | undefined => (xs.length === 0 ? undefined : xs.reduce((s, x) => s + x, 0) / xs.length);
const median = (xs: readonly number[] | undefined): number | undefined => {
  if (xs === undefined || xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const secs = (n: number | undefined): string => (n === undefined ? '—' : `${n.toFixed(2)} s`);
const perChange = (counts: Readonly<Record<string, number>>, n: number): string =>
  ['cds', 'eds', 'lds', 'rds', 'vhds'].map((t) => `${t} ${n === 0 ? '—' : int((counts[t] ?? 0) / n)}`).join(' ');

const triggers = (c: ChangeFigures): string =>
  Object.entries(c.triggers).map(([t, n]) => `${t} ${c.changes === 0 ? '—' : (n / c.changes).toFixed(1)}`).join(', ') || 'none';

function changeRow(label: string, c: ChangeFigures | undefined, proxies: number): string[] {
  if (c === undefined) return [`  ${label.padEnd(22)} not reached`];
  const l: Summary | undefined = c.latencyMs;
  const cols = [l?.p50, l?.p90, l?.p99, l?.max].map((v) => ms(v).padStart(7)).join(' ');
  return [
    `  ${label.padEnd(22)} ${cols}   ${c.changes} change${c.changes === 1 ? '' : 's'}; last ACK p50 ${ms(c.lastAckMs?.p50)} ms${c.applyMs === undefined ? '' : `, apply ${ms(c.applyMs.p50)} ms`}` +
      `${c.missing > 0 ? `   TIMED OUT: ${c.missing} of ${proxies} sidecars had not ACKed` : ''}`,
    ...(c.warmupLastAckMs.length === 0 ? [] : [`  ${''.padEnd(22)} ${c.warmupLastAckMs.length === 1 ? 'first change' : `first ${c.warmupLastAckMs.length} changes`} of this kind after start (warm-up, not counted above): last ACK ${c.warmupLastAckMs.map(ms).join(', ')} ms`]),
    `  ${''.padEnd(22)} control plane done (every response written) after ${ms(median(c.pushTimeMs))} ms (median), the rest is delivery and the simulated sidecars`,
    ...(c.joinerSyncMs === undefined ? [] : [`  ${''.padEnd(22)} the joining sidecar's own initial sync: ${ms(median(c.joinerSyncMs))} ms (median), ${ms(Math.max(...c.joinerSyncMs))} ms (max)`]),
    `  ${''.padEnd(22)} CPU per change: control plane ${secs(mean(c.cpuToLastAckS))} to the last ACK, ${secs(mean(c.cpuTotalS))} until quiet; sidecars ${secs((mean(c.fleetCpuMs) ?? 0) / 1000)}`,
    ...(c.controlGcMs === undefined ? [] : [`  ${''.padEnd(22)} control-plane GC per change (mean): young ${ms(mean(c.controlGcMs.map((g) => g.minor)))} ms, full ${ms(mean(c.controlGcMs.map((g) => Math.max(0, g.major - g.idle))))} ms, and ${ms(mean(c.controlGcMs.map((g) => g.idle)))} ms of full collections run while quiet`]),
    `  ${''.padEnd(22)} response carrying the change ${kb(c.responseBytes?.p50)} per sidecar; sent per change: ${perChange(c.serverPushes, c.changes)}; push triggers per change: ${triggers(c)}`,
  ];
}

function formatProfile(profile: NonNullable<CellResult['profile']>): string[] {
  return [`  control-plane CPU profile ${profile.file}`, ...Object.entries(profile.rankings).map(([name, r]) => formatRanking(name, r))];
}

export function printCell(cell: CellResult): void {
  const lines = [`── ${int(cell.proxies)} proxies × ${int(cell.services)} services, ${cell.protocol === 'delta' ? 'delta xDS + VHDS' : 'state-of-the-world xDS'}${cell.scoped ? ', Sidecar-scoped to 10 services' : ''} ${'─'.repeat(30)}`];
  if (cell.config !== undefined) lines.push(`  config: ${int(cell.config.resources)} resources applied in ${ms(cell.config.applyMs)} ms (control plane CPU ${secs(cell.config.cpuS)})`);
  const s = cell.initialSync;
  if (s !== undefined) {
    const res = Object.entries(s.resources).sort().map(([t, n]) => `${t} ${int(n)}`).join(', ');
    lines.push(`  initial sync: ${int(s.synced)}/${int(cell.proxies)} sidecars ACKed ${Object.keys(s.resources).sort().join('+').toUpperCase()} in ${ms(s.ms)} ms; control plane CPU ${secs(s.cpuToLastAckS)} to the last ACK (${secs(s.cpuTotalS)} until quiet), sidecars ${secs(s.fleetCpuMs / 1000)}`);
    lines.push(`                ${kb(s.bytesPerProxy?.p50)} received per sidecar (resources: ${res})`);
  }
  if (cell.rss !== undefined) {
    const heap = cell.heapAfterSync === undefined ? '' : ` (V8 heap in use ${mb(cell.heapAfterSync.heapUsedMB)} MB, external ${mb(cell.heapAfterSync.externalMB)} MB)`;
    const byPhase = Object.entries(cell.rss.peakByPhaseMB ?? {}).map(([phase, v]) => `${mb(v)} after ${phase}`).join(', ');
    lines.push(`  control-plane memory: RSS ${mb(cell.rss.afterConfigMB)} MB with config only, ${mb(cell.rss.afterSyncMB)} MB after initial sync${heap}, peak ${mb(cell.rss.peakMB)} MB${byPhase === '' ? '' : ` (peak so far: ${byPhase})`}`);
  }
  lines.push(`  convergence (ms, apply → ACK)   p50     p90     p99     max`);
  lines.push(...changeRow('VirtualService change', cell.vsChange, cell.proxies));
  lines.push(...changeRow('endpoint change', cell.endpointChange, cell.proxies));
  lines.push(...changeRow('workload join', cell.workloadJoin, cell.proxies));
  if (cell.status !== 'ok') lines.push(`  ${cell.status.toUpperCase()}${cell.error === undefined ? '' : `: ${cell.error}`}`);
  else if (cell.error !== undefined) lines.push(`  note: ${cell.error}`);
  if (cell.profile !== undefined) lines.push(...formatProfile(cell.profile));
  console.log(`${lines.join('\n')}\n`);
}

/** The p99 of a kind of change, or why there is none: a p99 over the sidecars that made it in time would flatter. */
function p99(c: ChangeFigures | undefined): number | string {
  if (c === undefined) return 'not reached';
  if (c.missing > 0) return 'timed out';
  return c.latencyMs?.p99 ?? 'not measured';
}

function verdict(measured: number | string | undefined, goal: number, unit: string): string {
  if (typeof measured === 'string') return measured === 'timed out' ? 'missed (timed out)' : 'not measured';
  if (measured === undefined || !Number.isFinite(measured)) return 'not measured';
  return measured <= goal ? 'met' : `missed by ${ms(measured - goal)} ${unit} (${(measured / goal).toFixed(1)}×)`;
}

const shown = (v: number | string): string => (typeof v === 'string' ? v : ms(v));

function matrix(all: readonly CellResult[]): string[] {
  const groups = [...new Set(all.map((c) => `${c.protocol}|${c.scoped}`))];
  return groups.flatMap((g) => {
    const [protocol, scoped] = g.split('|') as [string, string];
    return protocolMatrix(`${protocol}${scoped === 'true' ? ', Sidecar-scoped' : ''}`, all.filter((c) => `${c.protocol}|${c.scoped}` === g));
  });
}

function protocolMatrix(protocol: string, cells: readonly CellResult[]): string[] {
  const proxies = [...new Set(cells.map((c) => c.proxies))];
  const services = [...new Set(cells.map((c) => c.services))];
  const text = (p: number, s: number) => {
    const c = cells.find((x) => x.proxies === p && x.services === s);
    if (c === undefined) return '—';
    if (c.status === 'failed') return 'failed';
    return [c.vsChange, c.endpointChange, c.workloadJoin].map((k) => shown(p99(k))).join(' / ');
  };
  const rows = proxies.map((p) => [`${int(p)}`, ...services.map((s) => text(p, s))]);
  const header = ['proxies', ...services.map((s) => `${int(s)} services`)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 3);
  const line = (r: string[]) => `  ${r.map((x, i) => (i === 0 ? x.padEnd(widths[0]!) : x.padStart(widths[i]!))).join('')}`;
  return [`p99 convergence (ms), ${protocol.startsWith('delta') ? protocol.replace('delta', 'delta xDS + VHDS') : protocol.replace('sotw', 'state of the world')}: VirtualService change / endpoint change / workload join`, line(header), ...rows.map(line)];
}

export function printTargets(cells: readonly CellResult[]): void {
  const big = cells.find((c) => c.proxies === 1000 && c.services === 1000 && c.protocol === 'delta' && !c.scoped)
    ?? cells.find((c) => c.proxies === 1000 && c.services === 1000) ?? cells[cells.length - 1];
  const lines = [...matrix(cells), ''];
  if (big !== undefined) {
    const where = `${int(big.proxies)}×${int(big.services)} ${big.protocol}`;
    const peak = Math.max(...cells.map((c) => c.rss?.peakMB ?? NaN).filter(Number.isFinite));
    const rows: [string, string, number | string | undefined, number, string][] = [
      [`VirtualService change p99, ${where}`, `≤ ${TARGET_MS} ms`, p99(big.vsChange), TARGET_MS, 'ms'],
      [`endpoint change p99, ${where}`, `≤ ${TARGET_MS} ms`, p99(big.endpointChange), TARGET_MS, 'ms'],
      [`workload join p99, ${where}`, `≤ ${TARGET_MS} ms`, p99(big.workloadJoin), TARGET_MS, 'ms'],
      [`control-plane RSS peak, ${where}`, `≤ ${TARGET_RSS_MB} MB`, big.rss?.peakMB, TARGET_RSS_MB, 'MB'],
      [`control-plane RSS peak, any cell`, `≤ ${TARGET_RSS_MB} MB`, Number.isFinite(peak) ? peak : undefined, TARGET_RSS_MB, 'MB'],
    ];
    lines.push(`${'target'.padEnd(42)}${'goal'.padEnd(12)}${'measured'.padEnd(14)}verdict`);
    for (const [name, goal, measured, limit, unit] of rows) {
      const value = typeof measured === 'string' ? measured : `${unit === 'ms' ? ms(measured) : mb(measured)} ${unit}`;
      lines.push(`${name.padEnd(42)}${goal.padEnd(12)}${value.padEnd(14)}${verdict(measured, limit, unit)}`);
    }
  }
  lines.push('', ISTIO);
  console.log(lines.join('\n'));
}
