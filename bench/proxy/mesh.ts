/**
 * The mesh under test: a real `weft control`, the 1 KiB app (its own process), and two real `weft proxy`
 * sidecars on loopback addresses of their own. `direct-app` is the app registered as a WorkloadEntry
 * without a sidecar (one hop: client → A's outbound 15001 → app); `mesh-app` is the same app behind
 * sidecar B (two hops: client → A:15001 → B's inbound 9080 → app). Sidecar A has no workload port.
 *
 * Placement (optional, taskset): which CPUs each process may use (`placementFor` names the layouts
 * the benchmarks offer), so the load generator and the proxies do not take each other's CPU time.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { startControlPlane, type ControlProcess } from '../control/control-process.ts';
import type { Target } from './generator.ts';
import { canBind } from '../../src/run/addresses.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'weft.js');
const PROXY_PORTS = [15000, 15001, 15006, 15021, 15090, 9080];
export const BODY_BYTES = 1024;

/**
 * CPU lists (taskset syntax, `0`, `0-1`): a client side (load generator, sidecar A) and a server side
 * (sidecar B, app, control plane), and optionally other CPUs for sidecar A.
 */
export interface Placement {
  readonly client: string;
  readonly server: string;
  /** Sidecar A's CPUs when not the client side's. */
  readonly a?: string;
  readonly name?: string;
  /** How it reads in the benchmark's output. */
  readonly description?: string;
}

/** Sidecar A's CPUs under `p`. */
export function cpusOfA(p: Placement | undefined): string | undefined {
  return p === undefined ? undefined : (p.a ?? p.client);
}

export type PlacementName = 'generator-alone' | 'split';

/**
 * The layouts on `cpus` CPUs (undefined below 2). `split` (the benchmark's default): Istio's two-node
 * shape, client side (generator and sidecar A) and server side (sidecar B, app, control plane), each
 * half loaded about equally at a fixed rate. `generator-alone`: the load generator on the first half,
 * the whole data path (sidecars, app) and the control plane on the other, so the generator's timing
 * never waits for a proxy, but one half carries the three processes of a request's path.
 */
export function placementFor(name: PlacementName, cpus: number): Placement | undefined {
  if (cpus < 2) return undefined;
  const half = Math.floor(cpus / 2);
  const list = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);
  const first = list(0, half - 1);
  const second = list(half, cpus - 1);
  if (name === 'split') {
    return { name, client: first, server: second, description: `CPU ${first} = load generator + sidecar A (client side); CPU ${second} = sidecar B + app + control plane (server side)` };
  }
  return { name, client: first, server: second, a: second, description: `CPU ${first} = load generator; CPU ${second} = sidecars A and B + app + control plane` };
}

export interface MeshOptions {
  readonly placement?: Placement;
  /** Extra Node options for both proxies (`--cpu-prof`, V8 flags to compare). */
  readonly proxyNodeArgs?: readonly string[];
  /** Extra environment for both proxies. */
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /** Another `bin/weft.js` to run the proxies from (an older checkout, for comparisons). */
  readonly proxyBin?: string;
  /** Also write each proxy's whole output to `<dir>/<name>.log` (e.g. for `--trace-gc`). */
  readonly proxyLogDir?: string;
}

/** Pins every thread of a running process to `cpus`. */
export function pin(pid: number, cpus: string | undefined): void {
  if (cpus !== undefined) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

export interface ProxyProcess {
  readonly name: string;
  readonly ip: string;
  readonly pid: number;
  log(): string;
}

export interface Mesh {
  readonly control: ControlProcess;
  readonly appPid: number;
  readonly a: ProxyProcess;
  readonly b: ProxyProcess;
  readonly targets: { readonly direct: Target; readonly oneProxy: Target; readonly twoProxies: Target };
  readonly placement: Placement | undefined;
  stop(): Promise<void>;
}

export function meshConfig(appPort: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: direct-app}
spec: {selector: {app: direct-app}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: direct-app-1}
spec: {address: 127.0.0.1, labels: {app: direct-app}, ports: {http: ${appPort}}}
---
apiVersion: v1
kind: Service
metadata: {name: mesh-app}
spec: {selector: {app: mesh-app}, ports: [{name: http, port: 9080}]}
`;
}

/** A 127.0.1.x address where every port a sidecar binds is free. */
export async function freeLoopback(taken: Set<string>): Promise<string> {
  const start = 100 + Math.floor(Math.random() * 100);
  for (let i = 0; i < 250; i++) {
    const ip = `127.0.1.${((start + i) % 250) + 2}`;
    if (taken.has(ip)) continue;
    let free = true;
    for (const p of PROXY_PORTS) if (!(await canBind(ip, p))) free = false;
    if (free) {
      taken.add(ip);
      return ip;
    }
  }
  throw new Error('no free 127.0.1.x address');
}

export async function startApp(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(import.meta.dirname, 'upstream.ts'), [String(BODY_BYTES)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening`)));
  });
  return { child, port };
}

/** A `weft proxy` child on `ip` (pinned to `cpus` when given), its output kept for error messages. */
export function startProxy(name: string, ip: string, xdsPort: number, extra: readonly string[], opts: MeshOptions, cpus: string | undefined): { proc: ProxyProcess; child: ChildProcess } {
  const args = [...(opts.proxyNodeArgs ?? []), opts.proxyBin ?? BIN, 'proxy', '--control', `127.0.0.1:${xdsPort}`, '--name', name, '--ip', ip, '--drain-timeout', '500', ...extra];
  const [file, argv] = cpus === undefined ? [process.execPath, args] : ['taskset', ['-c', cpus, process.execPath, ...args]];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.proxyEnv } });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  if (opts.proxyLogDir !== undefined) {
    mkdirSync(opts.proxyLogDir, { recursive: true });
    const file = createWriteStream(join(opts.proxyLogDir, `${name}.log`));
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
  }
  return { proc: { name, ip, pid: child.pid!, log: () => log }, child };
}

/** One GET to `target`; the status and body length, or undefined when it could not connect. */
export function probe(target: Target): Promise<{ status: number; bytes: number; error: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.request({ host: target.host, port: target.port, path: target.path, agent: false, headers: { host: target.hostHeader } }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, error: String(res.headers['x-weft-error'] ?? '') }));
    });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, detail: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}

export async function startMesh(opts: MeshOptions = {}): Promise<Mesh> {
  const placement = opts.placement;
  const control = await startControlPlane({ debounceMs: 20, ...(placement === undefined ? {} : { cpus: placement.server }) });
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
    await control.stop();
  };
  try {
    const app = await startApp();
    children.push(app.child);
    pin(app.child.pid!, placement?.server);
    await control.apply(meshConfig(app.port));
    const taken = new Set<string>();
    const [ipA, ipB] = [await freeLoopback(taken), await freeLoopback(taken)];
    const b = startProxy('mesh-app-v1', ipB, control.xdsPort, ['--labels', 'app=mesh-app,version=v1', '--port', `9080:${app.port}`], opts, placement?.server);
    const a = startProxy('client-v1', ipA, control.xdsPort, ['--labels', 'app=client,version=v1'], opts, cpusOfA(placement));
    children.push(b.child, a.child);
    const via = (svc: string): Target => ({ host: ipA, port: 15001, path: `http://${svc}:9080/`, hostHeader: `${svc}:9080`, expectBytes: BODY_BYTES });
    const targets = {
      direct: { host: '127.0.0.1', port: app.port, path: '/', hostHeader: `127.0.0.1:${app.port}`, expectBytes: BODY_BYTES },
      oneProxy: via('direct-app'),
      twoProxies: via('mesh-app'),
    };
    const logs = () => `--- A ---\n${a.proc.log()}\n--- B ---\n${b.proc.log()}\n--- control ---\n${control.log()}`;
    for (const [name, t] of Object.entries(targets)) {
      await until(`${name} to answer 200 with ${BODY_BYTES} bytes`, async () => {
        const r = await probe(t);
        return r?.status === 200 && r.bytes === BODY_BYTES;
      }, 30_000, logs);
    }
    return { control, appPid: app.child.pid!, a: a.proc, b: b.proc, targets, placement, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
