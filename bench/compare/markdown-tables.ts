/**
 * The tables of BENCHMARKS.md, as Markdown text: HTTP/1.1 latency added over direct, cost per proxy,
 * the ratios weft ÷ nginx and weft ÷ HAProxy, maximum throughput, HTTP/2 and gRPC through weft, and
 * the control-plane cells. Pure functions of the results.
 */
import type { ControlRun } from './control-plane.ts';
import type { H2Results } from './h2.ts';
import type { PathRun } from './http1.ts';
import type { MaxRow } from './max.ts';

export function table(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const sep = header.map((_h, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** A profile's function label, cut short (a RegExp's label is its whole source) and safe in a table cell. */
export function fnLabel(fn: string): string {
  const short = fn.length > 90 ? `${fn.slice(0, 87)}…` : fn;
  return `\`${short.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

export const fixed = (n: number | undefined, d: number): string => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(d));
const ms = (us: number | undefined): string => (us === undefined ? '—' : (us / 1000).toFixed(2));
const signed = (us: number | undefined): string => (us === undefined ? '—' : `${us >= 0 ? '+' : ''}${(us / 1000).toFixed(2)}`);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

const ORDER = ['direct', 'weft 1 hop', 'nginx 1 hop', 'haproxy 1 hop', 'weft 2 hops', 'nginx 2 hops', 'haproxy 2 hops'];
const byOrder = (a: string, b: string) => (ORDER.indexOf(a) === -1 ? 99 : ORDER.indexOf(a)) - (ORDER.indexOf(b) === -1 ? 99 : ORDER.indexOf(b));
export const label = (path: string) => path.replace('haproxy', 'HAProxy');

function connectionsOf(runs: readonly PathRun[]): number[] {
  return [...new Set(runs.map((r) => r.connections))];
}

function pathsOf(runs: readonly PathRun[]): string[] {
  return [...new Set(runs.map((r) => r.path))].sort(byOrder);
}

function find(runs: readonly PathRun[], path: string, connections: number): PathRun | undefined {
  return runs.find((r) => r.path === path && r.connections === connections);
}

/** Rows: paths; columns: connection counts; cells: p50 / p90 / p99 (direct: absolute; proxies: added). */
export function latencyTable(runs: readonly PathRun[]): string {
  const counts = connectionsOf(runs);
  const rows = pathsOf(runs).map((path) => [label(path), ...counts.map((c) => {
    const r = find(runs, path, c);
    if (r === undefined) return '—';
    const l = r.added ?? r.load.corrected;
    const f = r.added === undefined ? ms : signed;
    return `${f(l.p50)} / ${f(l.p90)} / ${f(l.p99)}${r.load.errors > 0 ? ` (${r.load.errors} errors)` : ''}`;
  })]);
  return table(['path', ...counts.map((c) => `${c} conn: p50 / p90 / p99 (ms)`)], rows);
}

/** CPU-s per 1000 requests, mean over the path's proxies. */
export const meanCpu = (r: PathRun): number => r.instances.reduce((s, i) => s + i.cpuPer1000, 0) / Math.max(1, r.instances.length);
function peak(rs: readonly PathRun[], field: 'peakMB' | 'anonMB' = 'peakMB'): number {
  const values = rs.flatMap((r) => r.instances.map((i) => i[field]));
  return values.length === 0 ? NaN : Math.max(...values);
}

/** Rows: proxied paths; CPU seconds per 1000 requests per proxy at each count, peak RSS, errors. */
export function costTable(runs: readonly PathRun[]): string {
  const counts = connectionsOf(runs);
  const rows = pathsOf(runs).filter((p) => p !== 'direct').map((path) => {
    const mine = runs.filter((r) => r.path === path);
    const cpu = (c: number) => {
      const r = find(runs, path, c);
      return fixed(r === undefined ? undefined : meanCpu(r), 3);
    };
    return [label(path), ...counts.map(cpu), `${fixed(peak(mine), 1)} (${fixed(peak(mine, 'anonMB'), 1)})`, String(mine.reduce((s, r) => s + r.load.errors, 0))];
  });
  return table(['path', ...counts.map((c) => `CPU-s / 1000 req, ${c} conn`), 'peak RSS MB (anon)', 'errors'], rows);
}

/** weft ÷ peer, or why there is no ratio (a peer that added nothing measurable). */
function ratio(weft: number | undefined, peer: number | undefined, minPeer: number): string {
  if (weft === undefined || peer === undefined || !Number.isFinite(weft) || !Number.isFinite(peer)) return '—';
  if (peer < minPeer) return 'n/a¹';
  return `${(weft / peer).toFixed(2)}×`;
}

/** Per hop count and connection count: weft ÷ nginx and weft ÷ HAProxy of added p50/p90/p99 and CPU. */
export function ratioTable(runs: readonly PathRun[]): string {
  const rows: string[][] = [];
  for (const hops of [1, 2]) {
    for (const c of connectionsOf(runs)) {
      const get = (proxy: string) => runs.find((r) => r.proxy === proxy && r.hops === hops && r.connections === c);
      const w = get('weft');
      if (w === undefined) continue;
      const cols = (['p50', 'p90', 'p99'] as const).flatMap((p) => ['nginx', 'haproxy'].map((peer) => ratio(w.added?.[p], get(peer)?.added?.[p], 10)));
      const cpu = ['nginx', 'haproxy'].map((peer) => ratio(meanCpu(w), get(peer) === undefined ? undefined : meanCpu(get(peer)!), 1e-6));
      rows.push([`${hops} hop${hops === 1 ? '' : 's'}`, String(c), ...cols, ...cpu]);
    }
  }
  return table(['path', 'conn', '+p50 ÷ nginx', '+p50 ÷ HAProxy', '+p90 ÷ nginx', '+p90 ÷ HAProxy', '+p99 ÷ nginx', '+p99 ÷ HAProxy', 'CPU ÷ nginx', 'CPU ÷ HAProxy'], rows);
}

/** Per proxy: peak RSS and maximum throughput, with weft ÷ peer. */
export function proxyRatioTable(runs: readonly PathRun[], max: readonly MaxRow[]): string {
  const peakOf = (proxy: string) => peak(runs.filter((r) => r.proxy === proxy));
  const maxOf = (proxy: string) => max.find((m) => m.proxy === proxy)?.rps;
  const rows = [
    ['peak RSS per proxy (MB)', fixed(peakOf('weft'), 1), fixed(peakOf('nginx'), 1), fixed(peakOf('haproxy'), 1), ratio(peakOf('weft'), peakOf('nginx'), 1e-6), ratio(peakOf('weft'), peakOf('haproxy'), 1e-6)],
    ['maximum throughput, one proxy (rps)', fixed(maxOf('weft'), 0), fixed(maxOf('nginx'), 0), fixed(maxOf('haproxy'), 0), ratio(maxOf('weft'), maxOf('nginx'), 1e-6), ratio(maxOf('weft'), maxOf('haproxy'), 1e-6)],
  ];
  return table(['', 'weft', 'nginx', 'HAProxy', 'weft ÷ nginx', 'weft ÷ HAProxy'], rows);
}

export function maxTable(max: readonly MaxRow[]): string {
  const rows = max.map((m) => [label(m.path), int(m.rps), String(m.errors), m.process, fixed(m.vcpu, 2), m.vcpu > 0 ? int(m.rps / m.vcpu) : '—', `${fixed(m.rssMB, 1)} (${fixed(m.peakMB, 1)})`]);
  return table(['path', 'rps', 'errors', 'process measured', 'its vCPU', 'rps per vCPU', 'RSS MB (peak)'], rows, ['l', 'r', 'r', 'l', 'r', 'r', 'r']);
}

export function h2Table(h2: H2Results): string {
  const rows = h2.runs.map((r) => {
    const l = r.added ?? r.load.corrected;
    const f = r.added === undefined ? ms : signed;
    const inst = r.instances.map((i) => `${fixed(i.cpuPer1000, 3)}`).join(' + ') || '—';
    const rss = r.instances.length === 0 ? '—' : fixed(Math.max(...r.instances.map((i) => i.peakMB)), 1);
    return [r.protocol, label(r.path), `${f(l.p50)} / ${f(l.p90)} / ${f(l.p99)}`, fixed(r.load.achievedRps, 0), String(r.load.errors), inst, rss];
  });
  for (const b of h2.broken) rows.push([b.protocol, label(b.path), `does not work: ${b.problem.replace(/\|/g, '\\|')}`, '—', '—', '—', '—']);
  return table(['protocol', 'path', 'p50 / p90 / p99 ms (direct) or added (weft)', 'rps', 'errors', 'CPU-s / 1000 req per proxy', 'peak RSS MB'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']);
}

export function h2MaxTable(h2: H2Results): string {
  return table(['path', 'rps', 'failed', 'process measured', 'its vCPU', 'RSS MB (peak)'], h2.max.map((m) => [label(m.path), int(m.rps), String(m.failed), m.process, fixed(m.vcpu, 2), `${fixed(m.rssMB, 1)} (${fixed(m.peakMB, 1)})`]), ['l', 'r', 'r', 'l', 'r', 'r']);
}

const kb = (bytes: number | undefined): string => (bytes === undefined ? '—' : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);
const mean = (xs: readonly number[] | undefined): number | undefined => (xs === undefined || xs.length === 0 ? undefined : xs.reduce((s, x) => s + x, 0) / xs.length);
const median = (xs: readonly number[] | undefined): number | undefined => (xs === undefined || xs.length === 0 ? undefined : [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]);

export function controlTable(control: readonly ControlRun[]): string {
  const rows = control.map((c) => {
    const x = c.cell;
    const conv = (f: NonNullable<typeof x>['vsChange']) => (f === undefined ? '—' : f.missing > 0 ? `timed out (${f.missing} missing)` : `${fixed(f.latencyMs?.p50, 0)} / ${fixed(f.latencyMs?.p99, 0)}`);
    const cpu = (f: NonNullable<typeof x>['vsChange']) => fixed(mean(f?.cpuToLastAckS), 2);
    // Older bench:control results have no push time.
    const push = (f: NonNullable<typeof x>['vsChange']) => fixed(median((f as { pushTimeMs?: readonly number[] } | undefined)?.pushTimeMs), 0);
    const status = c.problem ?? (x?.status === 'ok' ? 'ok' : `${x?.status ?? '—'}${x?.error === undefined ? '' : `: ${x.error.split('\n')[0]!.slice(0, 120)}`}`);
    return [
      `${int(c.proxies)} × ${int(c.services)}${c.scoped ? ' (Sidecar-scoped to 10)' : ''}`, x?.protocol ?? '—',
      x?.initialSync === undefined ? '—' : `${int(x.initialSync.ms)} ms`,
      conv(x?.vsChange), conv(x?.endpointChange),
      `${push(x?.vsChange)} / ${push(x?.endpointChange)}`,
      `${cpu(x?.vsChange)} / ${cpu(x?.endpointChange)}`,
      fixed(x?.rss?.peakMB, 0),
      kb(x?.initialSync?.bytesPerProxy?.p50),
      `${kb(x?.vsChange?.responseBytes?.p50)} / ${kb(x?.endpointChange?.responseBytes?.p50)}`,
      status.replace(/\|/g, '\\|'),
    ];
  });
  return table(['proxies × services', 'xDS', 'initial sync', 'VS change p50 / p99 ms', 'endpoint change p50 / p99 ms', 'control plane done, median ms (VS / endpoint)', 'push CPU-s per change (VS / endpoint)', 'RSS peak MB', 'bytes per proxy, initial sync', 'bytes per proxy per change (VS / endpoint)', 'status'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']);
}
