/**
 * HTTP/2 and gRPC through weft. Adds to the running benchmark mesh an h2c app (h2-app.ts, server side),
 * the service `h2-app` (a WorkloadEntry: one hop, client → A:15001 → app) and `h2-mesh-app` behind a
 * third sidecar C on the server side (two hops, client → A:15001 → C:9090 → app), both with a port
 * named `grpc` (so Istio's protocol selection makes them HTTP/2 upstream). The client speaks HTTP/2
 * with prior knowledge to sidecar A's outbound listener, naming the service in `:authority`. Measures
 * the open loop (h2-generator.ts) for plain HTTP/2 GETs and unary gRPC at the fixed rate, and the
 * closed-loop maximum of HTTP/2 with h2load. A path that does not work is reported with the reason,
 * not measured.
 */
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import { join } from 'node:path';
import type { OpenLoopResult } from '../proxy/generator.ts';
import { BODY_BYTES, freeLoopback, pin, probe, startProxy, stopChild, until, type Mesh, type Placement } from '../proxy/mesh.ts';
import { runJob } from '../proxy/run.ts';
import { sendH2, type H2Target } from './h2-generator.ts';
import { h2Max, type H2Max } from './h2load.ts';
import { addedOver, printRun, type InstanceUsage, type LoadSettings, type PathRun } from './http1.ts';
import { killOnExit } from './processes.ts';

export type H2Protocol = 'HTTP/2' | 'gRPC';

export interface H2Run extends PathRun {
  readonly protocol: H2Protocol;
}

export interface H2Results {
  readonly runs: readonly H2Run[];
  /** Paths that could not be measured, and why. */
  readonly broken: ReadonlyArray<{ readonly protocol: H2Protocol; readonly path: string; readonly problem: string }>;
  readonly max: readonly (H2Max & { readonly path: string })[];
}

interface H2Path {
  readonly id: string;
  readonly hops: 0 | 1 | 2;
  readonly host: string;
  readonly port: number;
  readonly authority: string;
  /** The proxies on the path (none for direct). */
  readonly watch: ReadonlyArray<{ name: string; pid: number }>;
  /** Whose CPU the maximum-throughput run reports: the first proxy, or the app. */
  readonly busiest: { name: string; pid: number };
}

export const h2Config = (appPort: number) => `apiVersion: v1
kind: Service
metadata: {name: h2-app}
spec: {selector: {app: h2-app}, ports: [{name: grpc, port: 9090}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: h2-app-1}
spec: {address: 127.0.0.1, labels: {app: h2-app}, ports: {grpc: ${appPort}}}
---
apiVersion: v1
kind: Service
metadata: {name: h2-mesh-app}
spec: {selector: {app: h2-mesh-app}, ports: [{name: grpc, port: 9090}]}
`;

export async function startH2App(cpus: string | undefined): Promise<{ child: ReturnType<typeof fork>; port: number }> {
  const child = fork(join(import.meta.dirname, 'h2-app.ts'), [String(BODY_BYTES)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`the HTTP/2 app exited (${code}) before listening`)));
  });
  pin(child.pid!, cpus);
  return { child, port };
}

/** One request at a time until one succeeds or `ms` pass; the last problem, or undefined once it works. */
export async function works(t: H2Target, ms: number): Promise<string | undefined> {
  const deadline = performance.now() + ms;
  let problem: string | undefined = 'not tried';
  while (performance.now() < deadline) {
    try {
      const session = http2.connect(`http://${t.host}:${t.port}`);
      session.on('error', () => {});
      problem = await new Promise<string | undefined>((r) => sendH2(session, t, r));
      session.destroy();
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (problem === undefined) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
  return problem;
}

const target = (p: H2Path, grpc: boolean): H2Target => ({ host: p.host, port: p.port, authority: p.authority, path: grpc ? '/bench.Bench/Get' : '/', grpc, expectBytes: grpc ? BODY_BYTES + 5 : BODY_BYTES });

async function runH2Path(p: H2Path, protocol: H2Protocol, connections: number, s: LoadSettings, direct: OpenLoopResult | undefined): Promise<H2Run> {
  const spec = { ...target(p, protocol === 'gRPC'), rate: s.rate, connections, warmupMs: s.warmupS * 1000, durationMs: s.durationS * 1000, drainMs: 5000 };
  const { result, usage } = await runJob<OpenLoopResult>(spec, p.watch, (s.warmupS + s.durationS) * 1000 + 60_000, s.cpus, join(import.meta.dirname, 'h2-load-child.ts'));
  const instances = usage.map((u): InstanceUsage => ({ label: `weft ${u.name}`, vcpu: u.vcpu, cpuPer1000: result.achievedRps > 0 ? u.vcpu / (result.achievedRps / 1000) : NaN, rssMB: u.rssMB, peakMB: u.peakMB, anonMB: u.anonMB, fileMB: u.fileMB }));
  const added = direct === undefined ? undefined : addedOver(direct.corrected, result.corrected);
  return { protocol, path: p.id, proxy: p.hops === 0 ? 'direct' : 'weft', hops: p.hops, connections, rate: s.rate, load: result, instances, ...(added === undefined ? {} : { added }) };
}

export interface H2Settings extends LoadSettings {
  readonly connections: number;
  /** h2load's run; 0 skips it. */
  readonly maxDurationS: number;
  readonly maxClients: number;
  readonly maxStreams: number;
  /** Where h2load runs. */
  readonly maxCpus: string | undefined;
  readonly h2load: boolean;
}

/** Adds the HTTP/2 services to `mesh`, measures, and stops what it started. */
export async function runH2(mesh: Mesh, placement: Placement | undefined, s: H2Settings): Promise<H2Results> {
  const app = await startH2App(placement?.server);
  const forgetApp = killOnExit(app.child.pid!);
  let sidecar: ReturnType<typeof startProxy> | undefined;
  let forgetSidecar = () => {};
  try {
    await mesh.control.apply(h2Config(app.port));
    const ip = await freeLoopback(new Set([mesh.a.ip, mesh.b.ip]));
    sidecar = startProxy('h2-mesh-app-v1', ip, mesh.control.xdsPort, ['--labels', 'app=h2-mesh-app,version=v1', '--port', `9090:${app.port}`], {}, placement?.server);
    const c = sidecar.proc;
    forgetSidecar = killOnExit(c.pid);
    await until(`sidecar ${c.name} to be ready`, async () => (await probe({ host: ip, port: 15021, path: '/healthz/ready', hostHeader: `${ip}:15021`, expectBytes: 0 }))?.status === 200, 30_000, () => c.log());
    const a = { name: mesh.a.name, pid: mesh.a.pid };
    const paths: H2Path[] = [
      { id: 'direct', hops: 0, host: '127.0.0.1', port: app.port, authority: `127.0.0.1:${app.port}`, watch: [], busiest: { name: 'h2 app', pid: app.child.pid! } },
      { id: 'weft 1 hop', hops: 1, host: mesh.a.ip, port: 15001, authority: 'h2-app:9090', watch: [a], busiest: a },
      { id: 'weft 2 hops', hops: 2, host: mesh.a.ip, port: 15001, authority: 'h2-mesh-app:9090', watch: [a, { name: c.name, pid: c.pid }], busiest: a },
    ];
    return await measure(paths, s);
  } finally {
    if (sidecar !== undefined) await stopChild(sidecar.child);
    forgetSidecar();
    await stopChild(app.child);
    forgetApp();
  }
}

async function measure(paths: readonly H2Path[], s: H2Settings): Promise<H2Results> {
  const runs: H2Run[] = [];
  const broken: Array<H2Results['broken'][number]> = [];
  for (const protocol of ['HTTP/2', 'gRPC'] as const) {
    console.log(`\n${protocol} through weft: ${s.rate} rps over ${s.connections} connections (ms from the scheduled send)`);
    let direct: OpenLoopResult | undefined;
    for (const p of paths) {
      // Sidecar C is ready; the first one-hop request also waits for the new services to reach sidecar A. After that, a path that fails is broken.
      const problem = await works(target(p, protocol === 'gRPC'), protocol === 'HTTP/2' && p.hops === 1 ? 15_000 : 3_000);
      if (problem !== undefined) {
        console.log(`  ${p.id.padEnd(16)} does not work: ${problem}`);
        broken.push({ protocol, path: p.id, problem });
        continue;
      }
      const r = await runH2Path(p, protocol, s.connections, s, direct);
      if (p.hops === 0) direct = r.load;
      printRun(r);
      runs.push(r);
    }
  }
  const max: Array<H2Max & { path: string }> = [];
  if (s.h2load && s.maxDurationS > 0) {
    console.log(`\nHTTP/2 maximum throughput (h2load, ${s.maxClients} connections × ${s.maxStreams} streams, ${s.maxDurationS} s)`);
    for (const p of paths.filter((x) => x.hops <= 1 && !broken.some((b) => b.path === x.id && b.protocol === 'HTTP/2'))) {
      const m = await h2Max(target(p, false), p.busiest, s.maxClients, s.maxStreams, s.maxDurationS, s.maxCpus);
      console.log(`  ${p.id.padEnd(16)} ${m.rps.toFixed(0).padStart(7)} rps, ${m.failed} failed; ${m.process} ${m.vcpu.toFixed(2)} vCPU, RSS ${m.rssMB.toFixed(1)} MB`);
      max.push({ ...m, path: p.id });
    }
  }
  return { runs, broken, max };
}
