/**
 * Heap snapshots of a real `weft control` under a simulated fleet, for finding what the control plane
 * keeps alive: after the initial sync, after VirtualService changes and after workload joins. Node ids
 * are stable across the snapshots of one process, so objects that appear and stay between two of them
 * are what a kind of change leaves behind (open them in Chrome DevTools' Memory tab, "Comparison").
 *
 *   node bench/control/heap-snapshots.ts [--proxies 1000] [--services 1000] [--changes 8] [--out DIR]
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlPlane, type ControlProcess } from './control-process.ts';
import { startFleet } from './fleet-link.ts';
import { meshYaml, virtualServiceChange } from './mesh.ts';
import { TYPE } from '../../src/xds/type-urls.ts';

const { values: args } = parseArgs({
  options: {
    proxies: { type: 'string', default: '1000' },
    services: { type: 'string', default: '1000' },
    changes: { type: 'string', default: '8' },
    out: { type: 'string', default: join(tmpdir(), 'weft-heap') },
  },
});
const [proxies, services, changes] = [Number(args.proxies), Number(args.services), Number(args.changes)];
const out = args.out;
mkdirSync(out, { recursive: true });
const TIMEOUT_MS = 600_000;

const snapshots = () => readdirSync(out).filter((f) => f.endsWith('.heapsnapshot'));

/** Writes one snapshot (SIGUSR2, see the flags below) and waits until the file is complete. */
async function snapshot(cp: ControlProcess, label: string): Promise<void> {
  const m = await cp.metrics();
  const mb = (v: number | undefined) => ((v ?? NaN) / 1e6).toFixed(1);
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${cp.pid}/status`, 'utf8'))?.[1];
  console.log(`${label}: V8 heap used ${mb(m.value('nodejs_heap_size_used_bytes'))} MB, external ${mb(m.value('nodejs_external_memory_bytes'))} MB, RSS ${(Number(rss) / 1024).toFixed(0)} MiB`);
  const before = snapshots().length;
  process.kill(cp.pid, 'SIGUSR2');
  const deadline = performance.now() + TIMEOUT_MS;
  while (snapshots().length === before && performance.now() < deadline) await sleep(500);
  // The file appears when V8 starts writing it; the process answers HTTP again once it is done.
  await cp.metrics();
}

process.env['NODE_OPTIONS'] = `${process.env['NODE_OPTIONS'] ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${out}`;
const cp = await startControlPlane({ debounceMs: 10 });
const fleet = await startFleet(undefined);
try {
  await cp.apply(meshYaml(services));
  const synced = await fleet.connect(cp.xdsPort, proxies, services, TIMEOUT_MS, 'delta');
  console.log(`${synced.synced} of ${proxies} proxies synced in ${Math.round(synced.ms)} ms`);
  await snapshot(cp, 'after initial sync');
  for (let i = 0; i < changes; i++) await fleet.change(cp.httpUrl, virtualServiceChange(i), TYPE.virtualHost, TIMEOUT_MS);
  await snapshot(cp, `after ${changes} VirtualService changes`);
  for (let i = 0; i < changes; i++) await fleet.join(TYPE.endpoint, TIMEOUT_MS);
  await snapshot(cp, `after ${changes} workload joins`);
  console.log(`snapshots in ${out}: ${snapshots().join(', ')}`);
} finally {
  await fleet.close();
  await cp.stop();
}
