/**
 * `node bench/proxy/probe.ts [--seconds 10] [--connections 4] [--rate 1000] [--profile DIR] [--no-pin]
 * [--node-args "…"] [--env K=V,…] [--protocol http1|h2|grpc] [--path one|two] [--bin other/bin/weft.js]`: where a sidecar's memory and CPU go. Starts the benchmark mesh
 * (placed like the benchmark), then prints for both proxies /proc's split (RSS, anon, file), V8's heap
 * from the proxy's `/memory`, and CPU per 1000 rps: once configured and idle, after `--seconds` at
 * `--rate` through both proxies, and idle again. `--profile DIR` starts the proxies with `--cpu-prof`
 * (profiles land in DIR when they exit); `--alloc DIR` preloads alloc-profile.ts and writes an
 * allocation profile and allocated bytes of the loaded window; `--node-args` and `--env` compare V8
 * or malloc settings; `--log-dir DIR` keeps each proxy's output there; `--hold <s>` keeps the mesh up that long at the end, `--pause <s>` waits that long before the load
 * (pids printed), for other tools; `--settle <s>` runs the same load that long first, unrecorded. `--protocol h2` or `grpc` sends HTTP/2 GETs or unary gRPC calls one hop
 * instead, client → A → an h2c app (the benchmark's HTTP/2 service; B stays idle). `--path one` sends the
 * HTTP/1.1 load one hop, client → A → app (B idle), as the benchmark's one-proxy rows. `--bin` runs the
 * proxies from another checkout's bin/weft.js (e.g. `git archive` of the base, for a before/after).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { OpenLoopResult } from './generator.ts';
import { BODY_BYTES, placementFor, startMesh, stopChild, type MeshOptions, type PlacementName, type ProxyProcess } from './mesh.ts';
import { h2Config, startH2App, works } from '../compare/h2.ts';
import { formatMemory, mallocArenas, memoryDetail } from './proc-memory.ts';
import { runJob } from './run.ts';
import { envList, nodeArgList } from './cli-lists.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '4' },
    rate: { type: 'string', default: '1000' },
    profile: { type: 'string' },
    alloc: { type: 'string' },
    hold: { type: 'string', default: '0' },
    pause: { type: 'string', default: '0' },
    settle: { type: 'string', default: '0' },
    'log-dir': { type: 'string' },
    placement: { type: 'string', default: 'split' },
    pin: { type: 'boolean', default: true },
    'node-args': { type: 'string', default: '' },
    env: { type: 'string', default: '' },
    protocol: { type: 'string', default: 'http1' },
    path: { type: 'string', default: 'two' },
    bin: { type: 'string' },
  },
  allowNegative: true,
});

interface NodeMemory { allocator: string; rss: number; heap_total: number; heap_used: number; external: number; heap_spaces: Record<string, { size: number; used: number }> }

function adminMemory(ip: string): Promise<NodeMemory> {
  return new Promise((resolve, reject) => {
    http.get({ host: ip, port: 15000, path: '/memory', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const reply = JSON.parse(body) as { allocator: string; node: Omit<NodeMemory, 'allocator'> };
        resolve({ ...reply.node, allocator: reply.allocator });
      });
    }).on('error', reject);
  });
}

const mb = (b: number) => (b / 1e6).toFixed(1);

async function print(step: string, proxies: readonly ProxyProcess[], cpu?: readonly number[]): Promise<void> {
  console.log(`\n${step}`);
  for (const [i, p] of proxies.entries()) {
    const m = await adminMemory(p.ip);
    const spaces = Object.entries(m.heap_spaces).filter(([, s]) => s.size > 0).map(([n, s]) => `${n.replace(/_space$/, '')} ${mb(s.used)}/${mb(s.size)}`).join(', ');
    const load = cpu === undefined ? '' : `, ${cpu[i]!.toFixed(3)} vCPU per 1000 rps`;
    console.log(`  ${p.name.padEnd(12)} ${formatMemory(memoryDetail(p.pid))}${load}`);
    if (m.allocator === 'glibc') {
      const arenas = mallocArenas(p.pid);
      console.log(`  ${''.padEnd(12)} malloc (glibc): main arena ${arenas.mainMB.toFixed(1)} MB, ${arenas.threadArenas} thread arenas ${arenas.threadsMB.toFixed(1)} MB`);
    } else {
      console.log(`  ${''.padEnd(12)} malloc: ${m.allocator}`);
    }
    console.log(`  ${''.padEnd(12)} V8 heap ${mb(m.heap_used)}/${mb(m.heap_total)} MB, external ${mb(m.external)} MB; spaces (used/size MB): ${spaces}`);
  }
}

const env = envList(args.env);
const nodeArgs = [
  ...nodeArgList(args['node-args']),
  ...(args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${args.profile}`]),
  ...(args.alloc === undefined ? [] : ['--import', join(import.meta.dirname, 'alloc-profile.ts')]),
];
if (args.alloc !== undefined) env['WEFT_ALLOC_DIR'] = args.alloc;
const n = cpus().length;
const options: MeshOptions = {
  proxyNodeArgs: nodeArgs,
  proxyEnv: env,
  ...(args.bin === undefined ? {} : { proxyBin: resolve(args.bin) }),
  ...(args['log-dir'] === undefined ? {} : { proxyLogDir: args['log-dir'] }),
  ...(args.pin && placementFor(args.placement as PlacementName, n) !== undefined ? { placement: placementFor(args.placement as PlacementName, n)! } : {}),
};
if (!['http1', 'h2', 'grpc'].includes(args.protocol)) throw new Error(`--protocol ${args.protocol}: expected http1, h2 or grpc`);
if (args.path !== 'one' && args.path !== 'two') throw new Error(`--path ${args.path}: expected one or two`);
const mesh = await startMesh(options);
// HTTP/2 and gRPC go one hop, client → A → an h2c app (bench/compare/h2.ts's service); B stays idle.
const h2App = args.protocol === 'http1' ? undefined : await startH2App(mesh.placement?.server);
try {
  const proxies = [mesh.a, mesh.b];
  const grpc = args.protocol === 'grpc';
  const h2Target = { host: mesh.a.ip, port: 15001, authority: 'h2-app:9090', path: grpc ? '/bench.Bench/Get' : '/', grpc, expectBytes: grpc ? BODY_BYTES + 5 : BODY_BYTES };
  if (h2App !== undefined) {
    await mesh.control.apply(h2Config(h2App.port));
    const problem = await works(h2Target, 15_000);
    if (problem !== undefined) throw new Error(`the ${args.protocol} path does not work: ${problem}`);
  }
  await new Promise((r) => setTimeout(r, 2000));
  await print('configured, idle', proxies);
  if (Number(args.pause) > 0) {
    console.log(`pausing ${args.pause} s before the load: ${proxies.map((p) => `${p.name} pid ${p.pid}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, Number(args.pause) * 1000));
  }
  const seconds = Number(args.seconds);
  const rate = Number(args.rate);
  const load = { rate, connections: Number(args.connections), warmupMs: 1000, durationMs: seconds * 1000, drainMs: 5000 };
  const h1Target = args.path === 'one' ? mesh.targets.oneProxy : mesh.targets.twoProxies;
  const job = h2App === undefined ? { kind: 'open', spec: { ...h1Target, ...load } } : { ...h2Target, ...load };
  const childModule = h2App === undefined ? undefined : join(import.meta.dirname, '../compare/h2-load-child.ts');
  if (Number(args.settle) > 0) {
    // The same load, not recorded, so V8 has compiled the hot code before anything is measured (as the bench's settling).
    const settle = { ...load, durationMs: Number(args.settle) * 1000, warmupMs: 0 };
    await runJob(h2App === undefined ? { kind: 'open', spec: { ...h1Target, ...settle } } : { ...h2Target, ...settle }, proxies, settle.durationMs + 60_000, mesh.placement?.client, childModule);
    console.log(`settled: ${args.settle} s of the same load, not recorded`);
  }
  const times = () => proxies.map((p) => readFileSync(`/proc/${p.pid}/stat`, 'utf8').slice(readFileSync(`/proc/${p.pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number));
  const before = times();
  const signal = () => { if (args.alloc !== undefined) for (const p of proxies) process.kill(p.pid, 'SIGUSR2'); };
  signal();
  const { usage, result } = await runJob<OpenLoopResult>(job, proxies, seconds * 1000 + 60_000, mesh.placement?.client, childModule);
  const after = times();
  signal();
  console.log(`\nuser/system CPU ticks during the run (incl. 1 s warm-up): ${proxies.map((p, i) => `${p.name} ${after[i]![0]! - before[i]![0]!}/${after[i]![1]! - before[i]![1]!}`).join(', ')}`);
  for (const e of result.errorSamples) console.log(`  error: ${e}`);
  const c = result.corrected;
  const through = h2App !== undefined ? `proxy A (${args.protocol})` : args.path === 'one' ? 'proxy A (one hop)' : 'both proxies';
  console.log(`latency through ${through} (ms from the scheduled send): p50 ${(c.p50 / 1000).toFixed(3)}, p90 ${(c.p90 / 1000).toFixed(3)}, p99 ${(c.p99 / 1000).toFixed(3)}, max ${(c.max / 1000).toFixed(3)}; from the write: p50 ${(result.uncorrected.p50 / 1000).toFixed(3)}, p99 ${(result.uncorrected.p99 / 1000).toFixed(3)}; ${result.achievedRps.toFixed(0)} rps`);
  await print(`after ${seconds} s at ${rate} rps through ${through} (${args.connections} connections, ${result.errors} errors)`, proxies, usage.map((u) => u.vcpu / (result.achievedRps / 1000)));
  await new Promise((r) => setTimeout(r, 3000));
  await print('idle 3 s later', proxies);
  if (Number(args.hold) > 0) {
    console.log(`holding ${args.hold} s: ${proxies.map((p) => `${p.name} pid ${p.pid}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, Number(args.hold) * 1000));
  }
} finally {
  if (h2App !== undefined) await stopChild(h2App.child);
  await mesh.stop();
}
