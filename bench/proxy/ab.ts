/**
 * `node bench/proxy/ab.ts [--variant "label|node args|K=V,…|bin/weft.js"]… [--floor] [--tcp-floor]
 * [--floor-script label=path.ts]… [--rounds 3] [--seconds 10]
 * [--rate 1000] [--connections 4]`: a paired comparison for a noisy machine. Every variant is a
 * one-hop sidecar (`weft proxy` with the given Node options and environment, from another checkout's
 * bin/weft.js when given — e.g. `git archive HEAD` unpacked elsewhere; `--floor` adds
 * floor-proxy.ts, bare node:http + weft's HTTP/1.1 pool; `--floor-script` any script with
 * floor-proxy.ts's argv and IPC contract (an experiment); `--tcp-floor` adds tcp-floor.ts, a byte relay without HTTP,
 * the least any Node proxy costs) in front of the same app, and all of them take the same
 * open-loop load at the same time, so whatever else runs on the machine hits them alike. Proxies share
 * the second CPU, generators and the app the first. Prints per round and variant the proxy's CPU per
 * 1000 rps (from /proc), its RSS and peak, and the latency its clients saw.
 * Default variants: `weft` (bin/weft.js as shipped).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../control/control-process.ts';
import type { OpenLoopResult, Target } from './generator.ts';
import { BODY_BYTES, freeLoopback, meshConfig, pin, probe, startApp, startProxy, stopChild, until } from './mesh.ts';
import { envList, nodeArgList } from './cli-lists.ts';
import { runJob } from './run.ts';

const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    floor: { type: 'boolean', default: false },
    'tcp-floor': { type: 'boolean', default: false },
    'floor-script': { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '4' },
  },
});

interface Participant {
  readonly label: string;
  readonly pid: number;
  readonly target: Target;
  readonly child: ChildProcess;
}

const CLIENT_CPU = '0';
const PROXY_CPU = '1';
const variants = (args.variant.length > 0 ? args.variant : ['weft||']).map((v) => {
  const [label = '', nodeArgs = '', env = '', bin = ''] = v.split('|');
  return { label, bin: bin === '' ? undefined : bin, nodeArgs: nodeArgList(nodeArgs), env: envList(env, `--variant ${label}: env`) };
});

async function startFloor(appPort: number, label: string, script: string): Promise<Participant> {
  const port = 18000 + Math.floor(Math.random() * 1000);
  // Like a sidecar (bin/weft.js), a floor runs from Node's compile cache, warmed by a first start, so
  // neither carries the TypeScript stripper (~13 MB) into the comparison.
  const env = { ...process.env, NODE_COMPILE_CACHE: join(tmpdir(), 'weft-bench-floor-cache') };
  execFileSync(process.execPath, [resolve(import.meta.dirname, script), '--warm'], { env, stdio: 'ignore' });
  const child = fork(resolve(import.meta.dirname, script), [String(appPort), String(port)], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  pin(child.pid!, PROXY_CPU);
  return { label, pid: child.pid!, child, target: { host: '127.0.0.1', port, path: 'http://direct-app:9080/', hostHeader: 'direct-app:9080', expectBytes: BODY_BYTES } };
}

const ms = (us: number) => (us / 1000).toFixed(2);
const control = await startControlPlane({ debounceMs: 20, cpus: CLIENT_CPU });
const children: ChildProcess[] = [];
try {
  const app = await startApp();
  children.push(app.child);
  pin(app.child.pid!, CLIENT_CPU);
  await control.apply(meshConfig(app.port));
  const taken = new Set<string>();
  const participants: Participant[] = [];
  for (const [i, v] of variants.entries()) {
    // A first start fills Node's compile cache for this checkout and these V8 flags (the cache is keyed
    // by both), so that no variant carries the TypeScript stripper into the comparison.
    execFileSync(process.execPath, [...v.nodeArgs, resolve(v.bin ?? join(import.meta.dirname, '..', '..', 'bin', 'weft.js')), 'proxy', '--help'], { env: { ...process.env, ...v.env }, stdio: 'ignore' });
    const ip = await freeLoopback(taken);
    const { proc, child } = startProxy(`client-${i}`, ip, control.xdsPort, ['--labels', `app=client-${i}`], { proxyNodeArgs: v.nodeArgs, proxyEnv: v.env, ...(v.bin === undefined ? {} : { proxyBin: v.bin }) }, PROXY_CPU);
    children.push(child);
    const target = { host: ip, port: 15001, path: 'http://direct-app:9080/', hostHeader: 'direct-app:9080', expectBytes: BODY_BYTES };
    await until(`${v.label} to answer`, async () => (await probe(target))?.status === 200, 30_000, () => proc.log());
    participants.push({ label: v.label, pid: proc.pid, target, child });
  }
  const floors = [
    ...(args.floor ? [['floor', 'floor-proxy.ts']] : []),
    ...(args['tcp-floor'] ? [['tcp floor', 'tcp-floor.ts']] : []),
    ...args['floor-script'].map((spec) => [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)]),
  ];
  for (const [label, script] of floors) {
    const floor = await startFloor(app.port, label!, script!);
    children.push(floor.child);
    participants.push(floor);
  }
  const rate = Number(args.rate);
  console.log(`paired runs: ${participants.map((p) => p.label).join(' vs ')}; ${rate} rps each over ${args.connections} connections, ${args.seconds} s; proxies on CPU ${PROXY_CPU}, generators and app on CPU ${CLIENT_CPU}`);
  for (let round = 1; round <= Number(args.rounds); round++) {
    const spec = (t: Target) => ({ ...t, rate, connections: Number(args.connections), warmupMs: 2000, durationMs: Number(args.seconds) * 1000, drainMs: 5000 });
    const runs = await Promise.all(participants.map((p) => runJob<OpenLoopResult>({ kind: 'open', spec: spec(p.target) }, [{ name: p.label, pid: p.pid }], 120_000, CLIENT_CPU)));
    const cells = runs.map((r, i) => {
      const u = r.usage[0]!;
      const cpu = u.vcpu / (r.result.achievedRps / 1000);
      return `${participants[i]!.label}: ${cpu.toFixed(3)} vCPU/1000rps, RSS ${u.rssMB.toFixed(1)} (anon ${u.anonMB.toFixed(1)}, peak ${u.peakMB.toFixed(1)}) MB, p50 ${ms(r.result.corrected.p50)} p99 ${ms(r.result.corrected.p99)} ms${r.result.errors > 0 ? `, ${r.result.errors} errors` : ''}`;
    });
    console.log(`round ${round} (load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}): ${cells.join(' | ')}`);
  }
} finally {
  for (const c of children.reverse()) await stopChild(c);
  await control.stop();
}
