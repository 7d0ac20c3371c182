/**
 * The mesh under test: a real `weft control`, the 1 KiB app (its own process), and two real `weft proxy`
 * sidecars on loopback addresses of their own. `direct-app` is the app registered as a WorkloadEntry
 * without a sidecar (one hop: client → A's outbound 15001 → app); `mesh-app` is the same app behind
 * sidecar B (two hops: client → A:15001 → B's inbound 9080 → app). Sidecar A has no workload port.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { startControlPlane, type ControlProcess } from '../control/control-process.ts';
import type { Target } from './generator.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'weft.js');
const PROXY_PORTS = [15000, 15001, 15006, 15021, 15090, 9080];
export const BODY_BYTES = 1024;

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
  stop(): Promise<void>;
}

function config(appPort: number): string {
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

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A 127.0.1.x address where every port a sidecar binds is free. */
async function freeLoopback(taken: Set<string>): Promise<string> {
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

async function startApp(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(import.meta.dirname, 'upstream.ts'), [String(BODY_BYTES)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening`)));
  });
  return { child, port };
}

function startProxy(name: string, ip: string, xdsPort: number, extra: readonly string[]): { proc: ProxyProcess; child: ChildProcess } {
  const args = [BIN, 'proxy', '--control', `127.0.0.1:${xdsPort}`, '--name', name, '--ip', ip, '--drain-timeout', '500', ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
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

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, detail: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}

export async function startMesh(): Promise<Mesh> {
  const control = await startControlPlane({ debounceMs: 20 });
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
    await control.stop();
  };
  try {
    const app = await startApp();
    children.push(app.child);
    await control.apply(config(app.port));
    const taken = new Set<string>();
    const [ipA, ipB] = [await freeLoopback(taken), await freeLoopback(taken)];
    const b = startProxy('mesh-app-v1', ipB, control.xdsPort, ['--labels', 'app=mesh-app,version=v1', '--port', `9080:${app.port}`]);
    const a = startProxy('client-v1', ipA, control.xdsPort, ['--labels', 'app=client,version=v1']);
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
    return { control, appPid: app.child.pid!, a: a.proc, b: b.proc, targets, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
