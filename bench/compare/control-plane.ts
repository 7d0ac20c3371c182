/**
 * The control-plane cells of the run, each one invocation of `node bench/control.bench.ts --proxies P
 * --services S …` (bench:control, unchanged) in a process group of its own, its output passed through,
 * its figures read back from bench/results/control.json (which it rewrites; a file older than the
 * invocation means it failed to write; the file is put back as it was afterwards). One cell per invocation, so a cell stopped at the time budget
 * costs only itself: bench:control is told the time left (`--timeout`) and stops the cell by itself,
 * keeping what it measured; the group is killed if it overruns that by a margin.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult } from '../control/cell.ts';
import type { Placement } from '../control/report.ts';
import { startTracked } from './processes.ts';

export interface ControlCell {
  readonly proxies: number;
  readonly services: number;
  /** A namespace-wide Sidecar limits each proxy to 10 services (bench:control --sidecar-scope on). */
  readonly scoped: boolean;
}

export interface ControlRun {
  readonly proxies: number;
  readonly services: number;
  readonly scoped: boolean;
  /** What bench:control reported for the cell, or why there is nothing. */
  readonly cell?: CellResult;
  readonly placement?: Placement;
  readonly problem?: string;
  readonly wallS: number;
}

export interface ControlSettings {
  readonly protocol: string;
  readonly changes: number;
  /** bench:control's --kind-budget (s). */
  readonly kindBudgetS: number;
  /** Profile the control plane (bench:control --profile) into this folder; undefined: no profile. */
  readonly profileDir: string | undefined;
}

const ROOT = join(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results', 'control.json');
/** Start-up, config, fleet and teardown beyond bench:control's own --timeout. */
const MARGIN_S = 60;

/** Parses `1000x1000,1000x1000s,2000x1000` (proxies × services; a trailing `s`: Sidecar-scoped). */
export function parseCells(text: string): ControlCell[] {
  return text.split(',').filter(Boolean).map((c) => {
    const m = /^(\d+)x(\d+)(s?)$/.exec(c.trim());
    if (m === null) throw new Error(`--control-cells: "${c}" is not PROXIESxSERVICES[s] (e.g. 1000x1000, or 1000x1000s with Sidecar scoping)`);
    return { proxies: Number(m[1]), services: Number(m[2]), scoped: m[3] === 's' };
  });
}

function args(c: ControlCell, s: ControlSettings, timeoutS: number): string[] {
  const profile = s.profileDir === undefined ? [] : ['--profile', join(s.profileDir, `${c.proxies}x${c.services}${c.scoped ? 's' : ''}`)];
  return [
    join(ROOT, 'bench', 'control.bench.ts'), '--proxies', String(c.proxies), '--services', String(c.services), '--protocol', s.protocol,
    '--sidecar-scope', c.scoped ? 'on' : 'off', '--changes', String(s.changes), '--kind-budget', String(s.kindBudgetS), '--timeout', String(timeoutS), ...profile,
  ];
}

function readResult(since: number): { cell?: CellResult; placement?: Placement; problem?: string } {
  try {
    if (statSync(RESULTS).mtimeMs < since) return { problem: 'bench:control wrote no results' };
    const json = JSON.parse(readFileSync(RESULTS, 'utf8')) as { cells: CellResult[]; placement: Placement };
    const cell = json.cells[0];
    return cell === undefined ? { problem: 'bench:control reported no cell' } : { cell, placement: json.placement };
  } catch (e) {
    return { problem: `could not read ${RESULTS}: ${(e as Error).message}` };
  }
}

/**
 * Keeps bench:control's own results file as it was before this run (a run of `npm run bench` would
 * otherwise leave a single cell there): call before the first cell, and the returned function after
 * the last.
 */
export function keepControlResults(): () => void {
  let before: string | undefined;
  try {
    before = readFileSync(RESULTS, 'utf8');
  } catch {
    before = undefined;
  }
  return () => {
    if (before !== undefined) writeFileSync(RESULTS, before);
  };
}

/** Runs one cell with at most `budgetS` seconds (its own --timeout is that minus the margin). */
export async function runControlCell(c: ControlCell, s: ControlSettings, budgetS: number): Promise<ControlRun> {
  const t0 = performance.now();
  const since = Date.now();
  const timeoutS = Math.max(20, Math.floor(budgetS - MARGIN_S));
  console.log(`\n── control plane ${c.proxies} proxies × ${c.services} services${c.scoped ? ', Sidecar-scoped' : ''} (bench:control, --timeout ${timeoutS} s) ──`);
  const proc = startTracked(process.execPath, args(c, s, timeoutS), undefined);
  proc.child.stdout!.on('data', (d: Buffer) => process.stdout.write(d));
  proc.child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    void proc.stop(2_000);
  }, (timeoutS + MARGIN_S) * 1000);
  const code = await new Promise<number | null>((r) => proc.child.once('exit', (exitCode) => r(exitCode)));
  clearTimeout(killer);
  const wallS = (performance.now() - t0) / 1000;
  if (killed) return { ...c, problem: `stopped after ${wallS.toFixed(0)} s (time budget)`, wallS };
  const read = readResult(since);
  const problem = read.problem ?? (code === 0 ? undefined : `bench:control exited ${code}`);
  return { ...c, ...(read.cell === undefined ? {} : { cell: read.cell }), ...(read.placement === undefined ? {} : { placement: read.placement }), ...(problem === undefined ? {} : { problem }), wallS };
}
