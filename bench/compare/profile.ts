/**
 * Where the weft proxy's CPU goes: a separate, short run of a fresh benchmark mesh whose two sidecars
 * run under `node --cpu-prof` (the profiler's cost stays out of the measured figures), with the
 * two-hop open-loop load at the benchmark's rate; the profiles the sidecars write when they exit are
 * ranked by self time and by total time (bench/control/cpu-profile.ts) over the load's recorded window
 * (V8 stamps samples with the monotonic clock, the one of process.hrtime here). With Linux `perf`
 * available, each sidecar's main thread is also sampled on-CPU over the same window (perf-cpu.ts): the
 * split between the kernel, the node binary and JavaScript, which V8's wall-clock samples cannot give.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { rank, readProfile, type FunctionTime, type Ranking } from '../control/cpu-profile.ts';
import type { OpenLoopResult } from '../proxy/generator.ts';
import { startMesh, type Placement } from '../proxy/mesh.ts';
import { runJob } from '../proxy/run.ts';
import { readCpu, recordCpu, type CpuSplit } from './perf-cpu.ts';
import { controlPlaneOnExit, killOnExit, tempFolder } from './processes.ts';

export interface ProxyProfile {
  readonly proxy: string;
  readonly seconds: number;
  readonly rate: number;
  readonly connections: number;
  /** The sidecar's CPU per 1000 requests under the profiler (higher than unprofiled). */
  readonly cpuPer1000: number;
  /** Samples of the recorded load window only (start-up and xDS left out). */
  readonly ranking: Ranking;
  /** weft's own functions (src/) by self time: what a change to weft can cut directly. */
  readonly weftBySelf: readonly FunctionTime[];
  /** Self time inside Node's socket write bindings (the write system calls themselves), ms of the window. */
  readonly socketWriteMs: number;
  /** On-CPU samples of the main thread by `perf` over the same window, when perf is installed. */
  readonly cpu?: CpuSplit;
}

/** libuv stream writes as V8 names them (node's stream_wrap bindings: writev, writeBuffer, write*String). */
const SOCKET_WRITE = /^(writev|writeBuffer|write(Latin1|Utf8|Ascii|Ucs2)String)$/;

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
const TOP = 10;

const ROOT = join(import.meta.dirname, '..', '..');

export async function profileProxies(placement: Placement | undefined, rate: number, connections: number, seconds: number, perf: boolean): Promise<ProxyProfile[]> {
  const folder = tempFolder('weft-bench-prof-');
  try {
    // --perf-basic-prof names V8's compiled code for perf (a map file in /tmp, removed below).
    const mesh = await startMesh({ ...(placement === undefined ? {} : { placement }), proxyNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${folder.dir}`, ...(perf ? ['--perf-basic-prof'] : [])] });
    const forget = [controlPlaneOnExit(mesh.control.pid), ...[mesh.appPid, mesh.a.pid, mesh.b.pid].map(killOnExit)];
    const proxies = [mesh.a, mesh.b];
    let usage: readonly { vcpu: number }[] = [];
    let achieved = 0;
    const warmupMs = 1000;
    const window = { startUs: 0, endUs: 0 };
    const perfFile = (pid: number) => join(folder.dir, `${pid}.perf.data`);
    const cpu = new Map<number, CpuSplit>();
    const problems: string[] = [];
    try {
      const spec = { ...mesh.targets.twoProxies, rate, connections, warmupMs, durationMs: seconds * 1000, drainMs: 5000 };
      // The generator starts recording about warmupMs after it is forked (its own start-up is in the margin).
      window.startUs = monotonicUs() + warmupMs * 1000;
      // perf samples the main thread (tid = pid) over the recorded window.
      const recordings = perf ? proxies.map((p) => new Promise((r) => setTimeout(r, warmupMs)).then(() => recordCpu(p.pid, seconds, perfFile(p.pid))).catch((e: Error) => void problems.push(e.message))) : [];
      const out = await runJob<OpenLoopResult>({ kind: 'open', spec }, proxies.map((p) => ({ name: p.name, pid: p.pid })), seconds * 1000 + 60_000, placement?.client);
      window.endUs = monotonicUs();
      usage = out.usage;
      achieved = out.result.achievedRps;
      await Promise.all(recordings);
    } finally {
      await mesh.stop();
      for (const f of forget) f();
    }
    if (perf) {
      for (const p of proxies) {
        try {
          cpu.set(p.pid, readCpu(perfFile(p.pid), ROOT));
        } catch (e) {
          problems.push((e as Error).message);
        }
        rmSync(`/tmp/perf-${p.pid}.map`, { force: true });
      }
      for (const m of problems) console.log(`  perf: ${m}`);
    }
    const files = readdirSync(folder.dir).filter((f) => f.endsWith('.cpuprofile'));
    return proxies.flatMap((p, i) => {
      // node names the file CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile. A proxy that started on a cold
      // compile cache replaced itself (execve, same pid) after its first second: its last profile is the one.
      const file = files.filter((f) => f.split('.')[3] === String(p.pid)).sort().pop();
      if (file === undefined) return [];
      const cpuPer1000 = achieved > 0 ? (usage[i]?.vcpu ?? NaN) / (achieved / 1000) : NaN;
      const profile = readProfile(join(folder.dir, file));
      const all = rank(profile, [window], 500);
      if (all.busyMs === 0) {
        // Should the profile miss the window again (as the first incarnation's did): say what it covered.
        const endUs = profile.timeDeltas.reduce((t, d) => t + d, profile.startTime);
        console.log(`  V8 profile of ${p.name}: no samples in the recorded window (${profile.samples.length} samples over ${((endUs - profile.startTime) / 1e6).toFixed(1)} s, from ${((profile.startTime - window.startUs) / 1e6).toFixed(1)} s to ${((endUs - window.startUs) / 1e6).toFixed(1)} s relative to the window's start; the window lasts ${((window.endUs - window.startUs) / 1e6).toFixed(1)} s)`);
      }
      const ranking = { busyMs: all.busyMs, bySelf: all.bySelf.slice(0, TOP), byTotal: all.byTotal.slice(0, TOP) };
      const socketWriteMs = all.bySelf.filter((x) => SOCKET_WRITE.test(x.fn)).reduce((sum, x) => sum + x.selfMs, 0);
      const split = cpu.get(p.pid);
      return [{ proxy: p.name, seconds, rate, connections, cpuPer1000, ranking, weftBySelf: all.bySelf.filter((x) => x.fn.includes(' src/')).slice(0, TOP), socketWriteMs, ...(split === undefined ? {} : { cpu: split }) }];
    });
  } finally {
    folder.remove();
  }
}
