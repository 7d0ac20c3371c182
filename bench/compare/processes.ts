/**
 * Every process the comparison starts outside the weft mesh (nginx, HAProxy, the h2 app, sidecars of
 * its own, the control-plane benchmark): each in a process group of its own, so one signal to the group
 * also reaches what it forked (nginx's worker, the control benchmark's control plane and fleet), and all
 * of them killed when the benchmark ends, however it ends (normal exit, exception, Ctrl-C, SIGTERM).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const groups = new Set<number>();
/** Processes started by code this module does not run (the weft mesh's), killed on exit by pid. */
const loose = new Set<number>();
/** Temporary folders to remove on exit. */
const folders = new Set<string>();
let installed = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Kills every tracked group and process now (SIGKILL), and any other child of this process still
 * running (a load generator, wrk, h2load started by the modules this one does not run): the last
 * resort on exit.
 */
export function killAll(): void {
  for (const g of groups) killGroup(g, 'SIGKILL');
  groups.clear();
  for (const pid of [...loose, ...childrenOf(process.pid)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  loose.clear();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  folders.clear();
}

/**
 * Registers a weft control plane started elsewhere (bench:proxy's mesh): killed by pid and its `--state`
 * folder (read from its command line) removed if the benchmark ends before it was stopped; returns
 * the function that forgets it once it was.
 */
export function controlPlaneOnExit(pid: number): () => void {
  const forget = killOnExit(pid);
  let dir: string | undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = argv.indexOf('--state');
    dir = i >= 0 ? argv[i + 1] : undefined;
  } catch {
    dir = undefined;
  }
  if (dir !== undefined) folders.add(dir);
  return () => {
    forget();
    if (dir !== undefined) folders.delete(dir);
  };
}

/** A new temporary folder, removed by the returned function or, at the latest, when the benchmark exits. */
export function tempFolder(prefix: string): { dir: string; remove(): void } {
  installHandlers();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.add(dir);
  return { dir, remove: () => {
    rmSync(dir, { recursive: true, force: true });
    folders.delete(dir);
  } };
}

/** Kill `pid` too if the benchmark ends before it was stopped the normal way (forget it with the returned function). */
export function killOnExit(pid: number): () => void {
  installHandlers();
  loose.add(pid);
  return () => loose.delete(pid);
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping every benchmark process`);
      killAll();
      process.exit(130);
    });
  }
}

export interface Tracked {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last 20 kB of its stdout and stderr. */
  log(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `command args` in a new process group, pinned to `cpus` (taskset, which execs: the pid is the
 * command's) when given.
 */
export function startTracked(command: string, args: readonly string[], cpus: string | undefined, env?: NodeJS.ProcessEnv): Tracked {
  installHandlers();
  const [file, argv] = cpus === undefined ? [command, [...args]] : ['taskset', ['-c', cpus, command, ...args]];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: env ?? process.env });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  groups.add(pid);
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => {
    // The leader is gone; anything it left behind in its group goes too.
    killGroup(pid, 'SIGKILL');
    groups.delete(pid);
  });
  const stop = async (graceMs = 5_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    killGroup(pid, 'SIGTERM');
    const killer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(killer);
  };
  return { child, pid, log: () => log, stop };
}

/** The pids of a process's children (Linux: /proc/<pid>/task/<tid>/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Pins every thread of a running process (taskset -a); a no-op when `cpus` is undefined. */
export function pinAll(pid: number, cpus: string | undefined): void {
  if (cpus !== undefined) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
