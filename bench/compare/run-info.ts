/**
 * What a reader needs to judge the figures: date, commit (and whether the tree had uncommitted changes),
 * the machine, and how busy it was (load averages at the start and the end: figures taken while other
 * work runs are noisier and slower than on a quiet machine).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { machine } from '../machine.ts';

export interface RunInfo {
  readonly date: string;
  readonly commit: string;
  readonly machine: string;
  readonly cpus: number;
  readonly loadAtStart: readonly number[];
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

export function runInfo(cwd: string): RunInfo {
  return { date: new Date().toISOString(), commit: gitCommit(cwd), machine: machine(), cpus: availableParallelism(), loadAtStart: loadavg().map((x) => Math.round(x * 100) / 100) };
}

/** 1-minute load average over this many runnable tasks per CPU means the machine was not quiet. */
export const BUSY_LOAD_PER_CPU = 0.25;
