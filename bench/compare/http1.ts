/**
 * The HTTP/1.1 comparison at a fixed rate: for each connection count, the direct path first (the
 * baseline), then every proxy's one and two hops, each an open-loop run of bench:proxy's generator in a
 * process of its own (latency from the scheduled send time), while /proc samples the proxies on the path
 * over exactly the recorded window. A proxy instance's CPU is the sum over its processes (nginx: master
 * and worker); its memory is the process that carries the traffic.
 */
import type { OpenLoopResult, Percentiles } from '../proxy/generator.ts';
import { runJob } from '../proxy/run.ts';
import type { LoadPath, ProxyName } from './topology.ts';

export interface LoadSettings {
  readonly rate: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Where the generator runs (taskset list; undefined: unpinned). */
  readonly cpus: string | undefined;
}

export interface InstanceUsage {
  readonly label: string;
  /** CPU seconds per wall second over the recorded window, all of the instance's processes. */
  readonly vcpu: number;
  /** CPU seconds per 1000 requests (= vCPU per 1000 rps). */
  readonly cpuPer1000: number;
  readonly rssMB: number;
  readonly peakMB: number;
  readonly anonMB: number;
  /** Mapped-file pages (mostly the node or nginx binary, shared with other processes of it). */
  readonly fileMB: number;
}

export type Added = Pick<Percentiles, 'p50' | 'p90' | 'p99' | 'p999'>;

export interface PathRun {
  readonly path: string;
  readonly proxy: ProxyName | 'direct';
  readonly hops: number;
  readonly connections: number;
  readonly rate: number;
  readonly load: OpenLoopResult;
  readonly instances: readonly InstanceUsage[];
  /** µs over the direct run at the same connection count (absent for direct). */
  readonly added?: Added;
}

export function addedOver(direct: Percentiles, p: Percentiles): Added {
  return { p50: p.p50 - direct.p50, p90: p.p90 - direct.p90, p99: p.p99 - direct.p99, p999: p.p999 - direct.p999 };
}

/** One open-loop run through `path`. */
export async function runPath(path: LoadPath, connections: number, s: LoadSettings, direct: OpenLoopResult | undefined): Promise<PathRun> {
  const spec = { ...path.target, rate: s.rate, connections, warmupMs: s.warmupS * 1000, durationMs: s.durationS * 1000, drainMs: 5000 };
  const watch = path.instances.flatMap((i) => i.watch);
  const { result, usage } = await runJob<OpenLoopResult>({ kind: 'open', spec }, watch, (s.warmupS + s.durationS) * 1000 + 60_000, s.cpus);
  let offset = 0;
  const instances = path.instances.map((inst): InstanceUsage => {
    // runJob reports `usage` in the order of `watch`: each instance's processes in a row.
    const mine = usage.slice(offset, (offset += inst.watch.length));
    const mem = mine[inst.watch.findIndex((w) => w.pid === inst.memory.pid)] ?? mine[0]!;
    const vcpu = mine.reduce((sum, u) => sum + u.vcpu, 0);
    return { label: inst.label, vcpu, cpuPer1000: result.achievedRps > 0 ? vcpu / (result.achievedRps / 1000) : NaN, rssMB: mem.rssMB, peakMB: mem.peakMB, anonMB: mem.anonMB, fileMB: mem.fileMB };
  });
  const added = direct === undefined ? undefined : addedOver(direct.corrected, result.corrected);
  return { path: path.id, proxy: path.proxy, hops: path.hops, connections, rate: s.rate, load: result, instances, ...(added === undefined ? {} : { added }) };
}

const ms = (us: number) => (us / 1000).toFixed(3);
const signed = (us: number) => `${us >= 0 ? '+' : ''}${ms(us)}`;

export function printRun(r: PathRun): void {
  const c = r.load.corrected;
  const added = r.added === undefined ? '' : `  added p50 ${signed(r.added.p50)} p90 ${signed(r.added.p90)} p99 ${signed(r.added.p99)}`;
  const inst = r.instances.map((i) => `${i.label} ${i.cpuPer1000.toFixed(3)} CPU-s/1000 req, RSS ${i.rssMB.toFixed(1)} MB (peak ${i.peakMB.toFixed(1)})`).join('; ');
  console.log(`  ${r.path.padEnd(16)} p50 ${ms(c.p50)} p90 ${ms(c.p90)} p99 ${ms(c.p99)} ms${added}; ${r.load.achievedRps.toFixed(0)} rps, ${r.load.errors} errors${inst === '' ? '' : `; ${inst}`}`);
  for (const e of r.load.errorSamples) console.log(`      error: ${e}`);
}

/**
 * Load before anything is recorded: `seconds` at the fixed rate over 4 connections through every
 * two-hop path (which crosses every proxy process), one path at a time. A Node proxy's first seconds
 * cost more CPU while V8 compiles its hot functions (about 0.4 vCPU per 1000 rps in the first second,
 * settling after ~10 s); a sidecar lives for days, so the recorded runs measure it settled, and these
 * runs are returned so that the report shows what the first seconds cost.
 */
export async function settle(paths: readonly LoadPath[], seconds: number, s: LoadSettings): Promise<PathRun[]> {
  const runs: PathRun[] = [];
  if (seconds <= 0) return runs;
  console.log(`\nsettling: ${seconds} s at ${s.rate} rps over 4 connections through every two-hop path, not recorded in the tables`);
  for (const p of paths.filter((x) => x.hops === 2)) {
    const r = await runPath(p, 4, { ...s, warmupS: 0, durationS: seconds }, undefined);
    printRun(r);
    runs.push(r);
  }
  return runs;
}

/** Every path at every connection count, direct first at each count. */
export async function runMatrix(paths: readonly LoadPath[], connectionsList: readonly number[], s: LoadSettings): Promise<PathRun[]> {
  const direct = paths.find((p) => p.proxy === 'direct');
  if (direct === undefined) throw new Error('runMatrix: the paths have no direct baseline');
  const runs: PathRun[] = [];
  for (const connections of connectionsList) {
    console.log(`\n${s.rate} rps over ${connections} connection${connections === 1 ? '' : 's'} (ms from the scheduled send; ${s.warmupS} s warm-up + ${s.durationS} s recorded)`);
    const base = await runPath(direct, connections, s, undefined);
    printRun(base);
    runs.push(base);
    for (const p of paths) {
      if (p === direct) continue;
      const r = await runPath(p, connections, s, base.load);
      printRun(r);
      runs.push(r);
    }
  }
  return runs;
}
