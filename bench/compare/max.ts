/**
 * Closed-loop maximum throughput of one proxy instance (its one-hop path), for each proxy, with
 * bench:proxy's wrk runner (wrk -t1 pinned to the server side, so the proxy under test has the client
 * side's CPUs to itself), and of the app alone (direct): the ceiling every proxy's figure sits under,
 * since wrk and the app share the server side's CPUs. The proxy's CPU over the run tells whether it
 * was the bottleneck (≈ 1 vCPU: one worker, one thread, one JS thread).
 */
import { maxThroughput } from '../proxy/max-throughput.ts';
import type { LoadPath, ProxyName } from './topology.ts';

export interface MaxRow {
  readonly path: string;
  readonly proxy: ProxyName | 'direct';
  readonly tool: string;
  readonly connections: number;
  readonly durationS: number;
  readonly rps: number;
  readonly errors: number;
  /** The measured process (the proxy's worker; the app for direct). */
  readonly process: string;
  readonly vcpu: number;
  readonly rssMB: number;
  readonly peakMB: number;
}

export interface MaxSettings {
  readonly connections: number;
  readonly durationS: number;
  readonly useWrk: boolean;
  /** Where wrk runs. */
  readonly cpus: string | undefined;
}

export async function runMaxThroughput(paths: readonly LoadPath[], appPid: number, s: MaxSettings): Promise<MaxRow[]> {
  const rows: MaxRow[] = [];
  for (const p of paths.filter((x) => x.hops <= 1)) {
    const proc = p.instances[0]?.memory ?? { name: 'app', pid: appPid };
    const m = await maxThroughput(p.target, proc, s.connections, s.durationS, s.useWrk, s.cpus);
    const row: MaxRow = { path: p.id, proxy: p.proxy, tool: m.tool, connections: m.connections, durationS: m.durationS, rps: m.rps, errors: m.errors, process: proc.name, vcpu: m.proxy.vcpu, rssMB: m.proxy.rssMB, peakMB: m.proxy.peakMB };
    console.log(`  ${row.path.padEnd(16)} ${row.rps.toFixed(0).padStart(7)} rps, ${row.errors} errors; ${row.process} ${row.vcpu.toFixed(2)} vCPU, RSS ${row.rssMB.toFixed(1)} MB (peak ${row.peakMB.toFixed(1)})`);
    rows.push(row);
  }
  return rows;
}
