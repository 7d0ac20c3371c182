/**
 * Where a process's CPU time really goes, from Linux `perf`: on-CPU samples of its main thread, split
 * by what ran — the kernel (system calls, loopback TCP, wake-ups and context switches), the node binary
 * (V8's runtime, builtins and garbage collector, libuv, Node's C++), JavaScript compiled by V8 (weft's
 * code and Node's own JavaScript; named when the process runs with `--perf-basic-prof`) and the C
 * libraries (malloc, memcpy).
 *
 * V8's own profiler (`--cpu-prof`) cannot say this: it samples on wall-clock time, so a sample taken
 * inside a system call also counts the time the process sat preempted there (on a shared CPU, a write
 * that wakes the reader often hands it the CPU).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface CpuShares {
  readonly kernel: number;
  readonly node: number;
  readonly javascript: number;
  readonly libraries: number;
}

export interface CpuSplit {
  readonly samples: number;
  /** Fractions of the samples (they add up to 1). */
  readonly shares: CpuShares;
  /** The symbols with the most samples, by self time. */
  readonly top: ReadonlyArray<{ readonly symbol: string; readonly share: number }>;
}

const RATE_HZ = 999;

/** Starts sampling thread `tid` for `seconds` into `file`; resolves when perf has written it. */
export async function recordCpu(tid: number, seconds: number, file: string): Promise<void> {
  const perf: ChildProcess = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(RATE_HZ), '-t', String(tid), '-o', file, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  const [code] = (await once(perf, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`perf record -t ${tid} exited with ${code}`);
}

interface Row {
  readonly samples: number;
  readonly name: string;
}

/** `perf report`'s flat table for one sort key. */
function report(file: string, sort: 'dso' | 'sym'): Row[] {
  const r = spawnSync('perf', ['report', '-i', file, '--stdio', '--no-children', '--sort', sort, '-g', 'none', '-q', '-n'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`perf report -i ${file} failed: ${(r.stderr ?? '').trim().split('\n')[0]}`);
  return parseReport(r.stdout);
}

/** Rows of `perf report -q -n`: `  40.96%   2759  [kernel.kallsyms]`. */
export function parseReport(text: string): Row[] {
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+%\s+(\d+)\s+(.*?)\s*$/.exec(line);
    if (m !== null) rows.push({ samples: Number(m[1]), name: m[2]! });
  }
  return rows;
}

/** Which part of the process a `perf report --sort dso` row is. */
export function classifyDso(dso: string): keyof CpuShares {
  if (dso === '[kernel.kallsyms]') return 'kernel';
  if (dso === 'node' || dso.endsWith('/node')) return 'node';
  // V8's generated code: named through /tmp/perf-<pid>.map, else anonymous memory.
  if (dso.startsWith('[JIT]') || dso === '[unknown]' || dso.startsWith('perf-') || dso.startsWith('/tmp/perf-')) return 'javascript';
  return 'libraries';
}

/** A symbol as perf names it, shortened for a table: V8's `JS:*'fn file:///…/src/x.ts:1:2` becomes `fn src/x.ts:1`. */
export function symbolLabel(sym: string, root: string): string {
  const s = sym.replace(/^\[[.k]\]\s+/, '');
  const js = /^JS:[*~^+-]?'?(\S*) (?:file:\/\/)?(\S+?):(\d+):\d+$/.exec(s);
  if (js === null) return s;
  const url = js[2]!.startsWith(root) ? js[2]!.slice(root.length).replace(/^\//, '') : js[2]!;
  return `${js[1] === '' ? '(anonymous)' : js[1]} ${url}:${js[3]}`;
}

/** Reads a recording made by `recordCpu`. */
export function readCpu(file: string, root: string, top = 10): CpuSplit {
  return split(report(file, 'dso'), report(file, 'sym'), root, top);
}

export function split(byDso: readonly Row[], bySym: readonly Row[], root: string, top: number): CpuSplit {
  const counts = { kernel: 0, node: 0, javascript: 0, libraries: 0 };
  let samples = 0;
  for (const row of byDso) {
    counts[classifyDso(row.name)] += row.samples;
    samples += row.samples;
  }
  const of = (n: number) => (samples === 0 ? 0 : n / samples);
  const shares = { kernel: of(counts.kernel), node: of(counts.node), javascript: of(counts.javascript), libraries: of(counts.libraries) };
  return { samples, shares, top: bySym.slice(0, top).map((r) => ({ symbol: symbolLabel(r.name, root), share: of(r.samples) })) };
}
