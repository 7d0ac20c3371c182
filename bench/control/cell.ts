/**
 * One cell of the benchmark matrix: a fresh control plane and sidecar fleet for P proxies × S services.
 * Applies the mesh, connects the sidecars (initial sync), then makes routing changes (a VirtualService),
 * endpoint changes (a WorkloadEntry's address) and workload joins (a new sidecar of svc-0), each measured
 * from its start (apply request, new stream) to every sidecar's ACK, with the control plane's CPU and
 * memory read from /proc. Every wait is bounded by the cell's deadline; a cell that runs out of time
 * says so and keeps what it measured.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TYPE } from '../../src/xds/type-urls.ts';
import { startControlPlane, type ControlProcess, type Metrics } from './control-process.ts';
import { startFleet, type FleetLink } from './fleet-link.ts';
import type { ChangeResult, Counters } from './fleet-protocol.ts';
import { endpointChange, meshYaml, SCOPED_SERVICES, sidecarScopeYaml, virtualServiceChange } from './mesh.ts';
import { cpuSeconds, memory, waitIdle } from './proc.ts';
import { summarize, type Summary } from './stats.ts';
import { rank, readProfile, type Ranking, type Window } from './cpu-profile.ts';
import type { AdsProtocol } from './sidecar-wire.ts';

export interface CellOptions {
  readonly proxies: number;
  readonly services: number;
  /** Changes of each kind made first and not counted: the first after start runs code for the first time (default 2). */
  readonly warmup?: number;
  /** Changes of each kind… */
  readonly changes: number;
  /** …but no new change of a kind once its changes took this long (after at least two). */
  readonly kindBudgetMs: number;
  readonly timeoutMs: number;
  readonly debounceMs: number;
  /** The simulated sidecars' ADS variant; delta ones take routes over VHDS, as `weft proxy` does. */
  readonly protocol: AdsProtocol;
  /** A namespace-wide Sidecar limits each proxy to SCOPED_SERVICES services (else: the whole mesh). */
  readonly scoped: boolean;
  /** taskset CPU lists for the control plane and the fleet; undefined: not pinned. */
  readonly controlCpus?: string;
  readonly fleetCpus?: string;
  readonly profileDir?: string;
  readonly profileIntervalUs?: number;
  readonly gcTraceFile?: string;
}

export interface ChangeFigures {
  readonly changes: number;
  /** Streams that ended and reconnected so far (cumulative over the cell), with their first errors. */
  readonly errors?: readonly string[];
  /** Apply start → ACK, over every sidecar of every change. */
  readonly latencyMs?: Summary;
  /** Apply start → the last sidecar's ACK, one sample per change. */
  readonly lastAckMs?: Summary;
  /** The same, per change in order. */
  readonly lastAckPerChangeMs: readonly number[];
  /** Apply start → the last ACK of each warm-up change (made before these, not counted in them). */
  readonly warmupLastAckMs: readonly number[];
  readonly applyMs?: Summary;
  /** Size of the response carrying the change, per sidecar. */
  readonly responseBytes?: Summary;
  /** Control-plane CPU seconds per change: until the last ACK, and until it went quiet again. */
  readonly cpuToLastAckS: readonly number[];
  readonly cpuTotalS: readonly number[];
  /** Fleet CPU milliseconds per change (how busy the simulated sidecars were). */
  readonly fleetCpuMs: readonly number[];
  /** Per change: the simulated fleet's own GC time inside the change (it delays every sidecar at once). */
  readonly fleetGcMs: readonly number[];
  /**
   * Per change, the control plane's own push time (`pilot_xds_push_time`): from the change to every stream
   * having its responses written — convergence without the simulated sidecars' share.
   */
  readonly pushTimeMs: readonly number[];
  /** Full collections the control plane ran while quiet (idle-gc.ts) during each change's window. */
  readonly idleGcs?: readonly number[];
  /**
   * Per change, the control plane's GC time in its window (ms, by kind, from `nodejs_gc_duration_seconds`):
   * `major` includes the quiet-time collections, which `idle` counts on their own.
   */
  readonly controlGcMs?: readonly ControlGc[];
  /** Joins only: per join, the joining sidecar's own initial sync (new stream → it holds all it subscribed to). */
  readonly joinerSyncMs?: readonly number[];
  /** Totals over all changes: responses the sidecars received, pushes the server counted, push triggers. */
  readonly received: Counters;
  readonly serverPushes: Readonly<Record<string, number>>;
  readonly triggers: Readonly<Record<string, number>>;
  readonly missing: number;
}

export interface CellResult {
  readonly proxies: number;
  readonly services: number;
  readonly protocol: AdsProtocol;
  readonly scoped: boolean;
  status: 'ok' | 'timed out' | 'failed';
  error?: string;
  config?: { readonly resources: number; readonly applyMs: number; readonly cpuS: number };
  initialSync?: {
    readonly ms: number; readonly synced: number; readonly cpuToLastAckS: number; readonly cpuTotalS: number;
    readonly bytesPerProxy?: Summary; readonly resources: Readonly<Record<string, number>>; readonly fleetCpuMs: number;
  };
  /** `peakByPhaseMB`: the peak so far (VmHWM) at the end of each phase, to tell which one set it. */
  rss?: { afterConfigMB: number; afterSyncMB?: number; peakMB?: number; peakByPhaseMB?: Record<string, number> };
  /** After initial sync, as the process sees it: V8 heap in use and memory outside it (Buffers). */
  heapAfterSync?: { readonly heapUsedMB: number; readonly externalMB: number };
  vsChange?: ChangeFigures;
  /** A WorkloadEntry's address changed through the HTTP API. */
  endpointChange?: ChangeFigures;
  /** A new workload's sidecar connected: the registry's endpoint-only path. */
  workloadJoin?: ChangeFigures;
  /** Monotonic-clock windows (µs, the clock of V8's profiles) of each phase, to cut the CPU profile. */
  readonly phases: { readonly name: Phase; readonly startUs: number; readonly endUs: number }[];
  /** With --profile: the control plane's hottest functions per phase. */
  profile?: { readonly file: string; readonly rankings: Partial<Record<Phase, Ranking>> };
}

export type Phase = 'initial sync' | 'VirtualService changes' | 'endpoint changes' | 'workload joins';

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

interface Run {
  readonly phases: CellResult['phases'];
  readonly cp: ControlProcess;
  readonly fleet: FleetLink;
  readonly opts: CellOptions;
  readonly left: () => number;
}

const IDLE_MAX_MS = 30_000;

function addTo(total: Record<string, number>, after: Record<string, number>, before: Record<string, number>): void {
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) total[k] = (total[k] ?? 0) + d;
  }
}

/** The control plane's GC time between two scrapes, in ms by kind (see `ChangeFigures.controlGcMs`). */
export interface ControlGc {
  readonly major: number;
  readonly idle: number;
  readonly minor: number;
  readonly incremental: number;
}

function controlGc(before: Metrics, after: Metrics): ControlGc {
  const ms = (series: string) => Math.round(((after.value(series) ?? 0) - (before.value(series) ?? 0)) * 10_000) / 10;
  const kind = (k: string) => ms(`nodejs_gc_duration_seconds_sum{kind="${k}"}`);
  return { major: kind('major'), idle: ms('weft_idle_gc_duration_seconds_sum'), minor: kind('minor'), incremental: kind('incremental') };
}

function addCounters(total: Record<string, { responses: number; bytes: number }>, c: Counters): void {
  for (const [k, v] of Object.entries(c)) {
    const t = (total[k] ??= { responses: 0, bytes: 0 });
    t.responses += v.responses;
    t.bytes += v.bytes;
  }
}

type Trigger = (i: number, timeoutMs: number) => Promise<ChangeResult>;

async function measureChanges(run: Run, phase: Phase, trigger: Trigger): Promise<ChangeFigures> {
  const { cp, fleet, opts } = run;
  const latencies: number[] = [], last: number[] = [], apply: number[] = [], bytes: number[] = [];
  const controlGcMs: ControlGc[] = [];
  const cpuToLastAckS: number[] = [], cpuTotalS: number[] = [], fleetCpuMs: number[] = [], fleetGcMs: number[] = [], pushTimeMs: number[] = [], idleGcs: number[] = [], joinerSyncMs: number[] = [];
  const received: Record<string, { responses: number; bytes: number }> = {};
  const serverPushes: Record<string, number> = {}, triggers: Record<string, number> = {};
  let missing = 0;
  let errors: readonly string[] = [];
  // Warm-up: the first changes of a kind after start run code paths (and lazily compiled encoders) for
  // the first time, in the control plane and in the simulated fleet; they are timed, reported apart, and not counted.
  const warmupLastAckMs: number[] = [];
  const warmup = opts.warmup ?? 2;
  for (let w = 0; w < warmup && missing === 0; w++) {
    const r = await trigger(w, run.left());
    await waitIdle(cp.pid, Math.min(run.left(), IDLE_MAX_MS));
    missing += r.missing;
    errors = r.errors;
    if (r.latenciesMs.length > 0 && r.missing === 0) warmupLastAckMs.push(Math.max(...r.latenciesMs));
  }
  let i = 0;
  const started = performance.now();
  const more = () => i < opts.changes && missing === 0 && (i < 2 || performance.now() - started < opts.kindBudgetMs);
  for (; more(); i++) {
    const before = await cp.metrics();
    await fleet.counters();
    const startUs = monotonicUs();
    const cpu0 = cpuSeconds(cp.pid);
    const r = await trigger(warmup + i, run.left());
    const cpu1 = cpuSeconds(cp.pid);
    await waitIdle(cp.pid, Math.min(run.left(), IDLE_MAX_MS));
    run.phases.push({ name: phase, startUs, endUs: monotonicUs() });
    cpuToLastAckS.push(cpu1 - cpu0);
    cpuTotalS.push(cpuSeconds(cp.pid) - cpu0);
    fleetCpuMs.push(r.cpuMs);
    fleetGcMs.push(r.gcMs);
    latencies.push(...r.latenciesMs);
    if (r.latenciesMs.length > 0 && r.missing === 0) last.push(Math.max(...r.latenciesMs));
    if (r.triggerMs !== undefined) apply.push(r.triggerMs);
    if (r.joinerSyncMs !== undefined) joinerSyncMs.push(r.joinerSyncMs);
    bytes.push(...r.bytes);
    missing += r.missing;
    errors = r.errors;
    addCounters(received, await fleet.counters());
    const after = await cp.metrics();
    const pushes = (after.value('pilot_xds_push_time_count') ?? 0) - (before.value('pilot_xds_push_time_count') ?? 0);
    // The last push a change caused is what completes it; their mean understates it only when there were several.
    if (pushes > 0) pushTimeMs.push((((after.value('pilot_xds_push_time_sum') ?? 0) - (before.value('pilot_xds_push_time_sum') ?? 0)) / pushes) * 1000);
    idleGcs.push((after.value('weft_idle_gc_duration_seconds_count') ?? 0) - (before.value('weft_idle_gc_duration_seconds_count') ?? 0));
    controlGcMs.push(controlGc(before, after));
    addTo(serverPushes, after.byType('pilot_xds_pushes'), before.byType('pilot_xds_pushes'));
    addTo(triggers, after.byType('pilot_push_triggers'), before.byType('pilot_push_triggers'));
  }
  return {
    changes: i, errors, latencyMs: summarize(latencies), lastAckMs: summarize(last), lastAckPerChangeMs: last, warmupLastAckMs, applyMs: summarize(apply), responseBytes: summarize(bytes),
    cpuToLastAckS, cpuTotalS, fleetCpuMs, fleetGcMs, pushTimeMs, idleGcs, controlGcMs, received, serverPushes, triggers, missing,
    ...(joinerSyncMs.length === 0 ? {} : { joinerSyncMs }),
  };
}

async function initialSync(run: Run, result: CellResult): Promise<boolean> {
  const { cp, fleet, opts } = run;
  const startUs = monotonicUs();
  const cpu0 = cpuSeconds(cp.pid);
  // The fleet subscribes to and expects what each proxy sees: every service, or the scoped few.
  const visible = opts.scoped ? Math.min(SCOPED_SERVICES, opts.services) : opts.services;
  const r = await fleet.connect(cp.xdsPort, opts.proxies, visible, run.left(), opts.protocol);
  const cpu1 = cpuSeconds(cp.pid);
  await waitIdle(cp.pid, Math.min(run.left(), IDLE_MAX_MS));
  run.phases.push({ name: 'initial sync', startUs, endUs: monotonicUs() });
  result.initialSync = {
    ms: r.ms, synced: r.synced, cpuToLastAckS: cpu1 - cpu0, cpuTotalS: cpuSeconds(cp.pid) - cpu0,
    bytesPerProxy: summarize(r.bytesPerProxy), resources: r.resources, fleetCpuMs: r.cpuMs,
  };
  result.rss!.afterSyncMB = memory(cp.pid).rssMB;
  result.rss!.peakByPhaseMB = { 'initial sync': memory(cp.pid).peakMB };
  const m = await cp.metrics();
  result.heapAfterSync = { heapUsedMB: (m.value('nodejs_heap_size_used_bytes') ?? NaN) / 1e6, externalMB: (m.value('nodejs_external_memory_bytes') ?? NaN) / 1e6 };
  if (r.errors.length > 0) result.error = `stream errors: ${r.errors.join('; ')}`;
  return r.synced === opts.proxies;
}

async function applyMesh(cp: ControlProcess, opts: CellOptions, result: CellResult): Promise<void> {
  const cpu0 = cpuSeconds(cp.pid);
  const t0 = performance.now();
  await cp.apply(opts.scoped ? `${meshYaml(opts.services)}---\n${sidecarScopeYaml(opts.services)}` : meshYaml(opts.services));
  const applyMs = performance.now() - t0;
  await waitIdle(cp.pid, IDLE_MAX_MS);
  result.config = { resources: 4 * opts.services, applyMs, cpuS: cpuSeconds(cp.pid) - cpu0 };
  result.rss = { afterConfigMB: memory(cp.pid).rssMB };
}

async function steps(run: Run, result: CellResult): Promise<void> {
  if (!(await initialSync(run, result))) {
    result.status = 'timed out';
    return;
  }
  const { cp, fleet } = run;
  // Routing changes reach delta sidecars as VHDS virtual hosts, state-of-the-world ones as whole route configurations.
  const routeType = run.opts.protocol === 'delta' ? TYPE.virtualHost : TYPE.route;
  const kinds: [Phase, 'vsChange' | 'endpointChange' | 'workloadJoin', Trigger][] = [
    ['VirtualService changes', 'vsChange', (i, t) => fleet.change(cp.httpUrl, virtualServiceChange(i), routeType, t)],
    ['endpoint changes', 'endpointChange', (i, t) => fleet.change(cp.httpUrl, endpointChange(i), TYPE.endpoint, t)],
    ['workload joins', 'workloadJoin', (_i, t) => fleet.join(TYPE.endpoint, t)],
  ];
  for (const [phase, key, trigger] of kinds) {
    const figures = await measureChanges(run, phase, trigger);
    result[key] = figures;
    result.rss!.peakByPhaseMB![phase] = memory(cp.pid).peakMB;
    if (figures.errors !== undefined && figures.errors.length > 0) result.error = `stream errors: ${figures.errors.join('; ')}`;
    if (figures.missing > 0) {
      result.status = 'timed out';
      return;
    }
  }
}

/** VmHWM, or NaN when the process is already gone (it crashed). */
function peakMemory(pid: number): number {
  try {
    return memory(pid).peakMB;
  } catch {
    return NaN;
  }
}

export async function runCell(opts: CellOptions): Promise<CellResult> {
  const result: CellResult = { proxies: opts.proxies, services: opts.services, protocol: opts.protocol, scoped: opts.scoped, status: 'ok', phases: [] };
  const deadline = performance.now() + opts.timeoutMs;
  let cp: ControlProcess | undefined;
  let fleet: FleetLink | undefined;
  try {
    cp = await startControlPlane({
      debounceMs: opts.debounceMs, cpus: opts.controlCpus, profileDir: opts.profileDir,
      profileIntervalUs: opts.profileIntervalUs, gcTraceFile: opts.gcTraceFile,
    });
    await applyMesh(cp, opts, result);
    fleet = await startFleet(opts.fleetCpus);
    await waitIdle(cp.pid, IDLE_MAX_MS);
    await steps({ phases: result.phases, cp, fleet, opts, left: () => Math.max(1, deadline - performance.now()) }, result);
  } catch (e) {
    result.status = 'failed';
    result.error = `${(e as Error).message}${cp === undefined ? '' : `\ncontrol plane log (tail):\n${cp.log().slice(-2000)}`}`;
  } finally {
    if (cp !== undefined && result.rss !== undefined) result.rss.peakMB = peakMemory(cp.pid);
    await fleet?.close();
    await cp?.stop();
  }
  if (opts.profileDir !== undefined) result.profile = rankPhases(opts.profileDir, result.phases);
  return result;
}

/** Ranks the profile the control plane wrote on exit, phase by phase. */
function rankPhases(dir: string, phases: CellResult['phases']): CellResult['profile'] {
  if (!existsSync(dir)) return undefined;
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)).sort().pop();
  if (file === undefined) return undefined;
  const profile = readProfile(file);
  const rankings: Partial<Record<Phase, Ranking>> = {};
  for (const name of new Set(phases.map((p) => p.name))) {
    const windows: Window[] = phases.filter((p) => p.name === name);
    rankings[name] = rank(profile, windows);
  }
  return { file, rankings };
}
