/**
 * What a reader needs to judge the figures: date, commit (and whether the tree had uncommitted changes),
 * the machine, and how busy it was when the run started (figures taken while other work runs are
 * noisier and slower than on a quiet machine). Busy is what the CPUs did in the seconds before the
 * start (`/proc/stat`); the load averages are printed too, but the 1-minute one still counts work that
 * ended a minute ago, and at the end of a run it counts the run's own processes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { machine } from '../machine.ts';

export interface RunInfo {
  readonly date: string;
  readonly commit: string;
  readonly machine: string;
  readonly cpus: number;
  readonly loadAtStart: readonly number[];
  /** Share of all CPUs' time spent busy just before the run (0–1); absent without /proc/stat. */
  readonly busyAtStart?: number;
  /** Seconds the run waited for the machine to become quiet. */
  readonly waitedS?: number;
}

export function gitCommit(cwd: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', cwd }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function runInfo(cwd: string, quiet?: { busy: number; waitedS: number }): RunInfo {
  return {
    date: new Date().toISOString(), commit: gitCommit(cwd), machine: machine(), cpus: availableParallelism(), loadAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    ...(quiet === undefined ? {} : { busyAtStart: quiet.busy, waitedS: quiet.waitedS }),
  };
}

/** 1-minute load average over this many runnable tasks per CPU means the machine was not quiet (when /proc/stat is not there to say). */
export const BUSY_LOAD_PER_CPU = 0.25;
/** More than this share of the CPUs' time busy before the start means the machine was not quiet. */
export const BUSY_CPU_SHARE = 0.1;

/** Whether the machine was busy when the run started. */
export function wasBusy(info: RunInfo): boolean {
  if (info.busyAtStart !== undefined) return info.busyAtStart > BUSY_CPU_SHARE;
  return (info.loadAtStart[0] ?? 0) / info.cpus > BUSY_LOAD_PER_CPU;
}

/** How busy the machine was at the start, in words: the CPU share measured, the wait, the load averages. */
export function busyLine(info: RunInfo): string {
  const load = `load average ${info.loadAtStart.join(' / ')}`;
  if (info.busyAtStart === undefined) return load;
  const waited = info.waitedS !== undefined && info.waitedS > 0 ? ` after waiting ${info.waitedS} s for other work to finish` : '';
  return `CPUs ${Math.round(info.busyAtStart * 100)} % busy in the 2 s before the start${waited}; ${load}`;
}

/** Busy and total jiffies of all CPUs so far (`/proc/stat`'s first line), or undefined where there is none. */
function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - fields[3]! - fields[4]!, total }; // idle and iowait are not busy
  } catch {
    return undefined;
  }
}

/** The share of all CPUs' time spent busy over the next `ms` (undefined without /proc/stat). */
export async function cpuBusy(ms: number): Promise<number | undefined> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  if (a === undefined || b === undefined || b.total === a.total) return undefined;
  return (b.busy - a.busy) / (b.total - a.total);
}

/**
 * Waits, up to `maxS` seconds, until the CPUs spent at most `BUSY_CPU_SHARE` of a 2 s sample busy
 * (a test run that just ended, say). Returns the last sample and how long it waited.
 */
export async function awaitQuiet(maxS: number): Promise<{ busy: number; waitedS: number } | undefined> {
  const started = performance.now();
  for (;;) {
    const sampleStart = performance.now();
    const busy = await cpuBusy(2000);
    if (busy === undefined) return undefined;
    if (busy <= BUSY_CPU_SHARE || (performance.now() - started) / 1000 >= maxS) return { busy, waitedS: Math.round((sampleStart - started) / 1000) };
  }
}
