/**
 * The control plane under test: a real `weft control` child process on free loopback ports, optionally
 * pinned to CPUs (taskset), CPU-profiled (`--cpu-prof`) and GC-traced (`--trace-gc`), with the HTTP API
 * calls the benchmark needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'weft.js');

export interface ControlOptions {
  readonly debounceMs: number;
  /** CPU list for taskset (`0`); undefined: not pinned. */
  readonly cpus?: string;
  /** Write a V8 CPU profile of the whole run into this folder (on exit). */
  readonly profileDir?: string;
  /** The profile's sampling interval in µs (V8's default: 1000). */
  readonly profileIntervalUs?: number;
  /** Write V8's GC trace (`--trace-gc`: one line per collection, its kind, heap sizes and pause) into this file. */
  readonly gcTraceFile?: string;
}

export interface ControlProcess {
  readonly pid: number;
  readonly xdsPort: number;
  readonly httpUrl: string;
  /** The last 20 kB the process wrote to stderr (its log). */
  log(): string;
  apply(yaml: string): Promise<void>;
  /** The control plane's Prometheus metrics, scraped now. */
  metrics(): Promise<Metrics>;
  stop(): Promise<void>;
}

/** Samples of a Prometheus text exposition, by series (`name` or `name{labels}`). */
export class Metrics {
  readonly #series = new Map<string, number>();

  constructor(text: string) {
    for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/gm)) this.#series.set(m[1]!, Number(m[2]));
  }

  value(series: string): number | undefined {
    return this.#series.get(series);
  }

  /** The series of `name` by their `type` label (istiod's metrics label push types so). */
  byType(name: string): Record<string, number> {
    const out: Record<string, number> = {};
    const prefix = `${name}{type="`;
    for (const [k, v] of this.#series) if (k.startsWith(prefix)) out[k.slice(prefix.length, k.indexOf('"', prefix.length))] = v;
    return out;
  }
}

function command(opts: ControlOptions, stateDir: string): [string, string[]] {
  const profile = opts.profileDir === undefined ? [] : [
    '--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`,
    ...(opts.profileIntervalUs === undefined ? [] : [`--cpu-prof-interval=${opts.profileIntervalUs}`]),
  ];
  const node = [...profile, ...(opts.gcTraceFile === undefined ? [] : ['--trace-gc']), BIN];
  const args = [...node, 'control', '--xds', '127.0.0.1:0', '--http', '127.0.0.1:0', '--state', stateDir, '--debounce', String(opts.debounceMs)];
  return opts.cpus === undefined ? [process.execPath, args] : ['taskset', ['-c', opts.cpus, process.execPath, ...args]];
}

function ready(child: ChildProcess, output: () => string): Promise<{ xdsPort: number; httpUrl: string }> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = /xDS on [^:]+:(\d+), HTTP API on (\S+),/.exec(output());
      if (m !== null) resolve({ xdsPort: Number(m[1]), httpUrl: m[2]!.replace(/\/$/, '') });
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => reject(new Error(`weft control exited (${code}) before it was ready:\n${output()}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

export async function startControlPlane(opts: ControlOptions): Promise<ControlProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), 'weft-bench-state-'));
  const [file, args] = command(opts, stateDir);
  const stdout = opts.gcTraceFile === undefined ? 'ignore' : openSync(opts.gcTraceFile, 'w'); // V8 writes its GC trace there
  const child = spawn(file, args, { stdio: ['ignore', stdout, 'pipe'] });
  if (typeof stdout === 'number') closeSync(stdout);
  let output = '';
  child.stderr!.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  const { xdsPort, httpUrl } = await ready(child, () => output);
  const get = async (path: string) => {
    const res = await fetch(`${httpUrl}${path}`);
    if (!res.ok) throw new Error(`GET ${path} → ${res.status}`);
    return res.text();
  };
  return {
    pid: child.pid!, xdsPort, httpUrl, log: () => output,
    apply: async (yaml) => {
      const res = await fetch(`${httpUrl}/apply`, { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
      if (!res.ok) throw new Error(`POST /apply → ${res.status}: ${(await res.text()).slice(0, 2000)}`);
      await res.arrayBuffer();
    },
    metrics: async () => new Metrics(await get('/metrics')),
    stop: async () => {
      await stopChild(child);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
