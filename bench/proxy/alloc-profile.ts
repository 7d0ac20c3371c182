/**
 * A preload for a proxy under study (`node --import bench/proxy/alloc-profile.ts bin/weft.js proxy …`,
 * what `probe.ts --alloc DIR` does): the first SIGUSR2 opens a window, the second closes it and writes
 * `<pid>.heapprofile` (V8's sampling heap profiler, keeping objects the GC already collected, so it
 * shows where per-request garbage is made; open it in Chrome DevTools) and `<pid>.alloc.json` (bytes
 * allocated in the window from V8's GC statistics, the number of GCs and their pause time) into
 * `$WEFT_ALLOC_DIR`; with `WEFT_ALLOC_PROMOTED=1` the profile keeps only what survived the young
 * generation (what fills the old generation until a full GC). For measurement only: sampling costs CPU.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { GCProfiler } from 'node:v8';

const dir = process.env['WEFT_ALLOC_DIR'] ?? '.';
// WEFT_ALLOC_PROMOTED=1 leaves out what a young-generation GC collected: the profile then shows what lived long enough to be promoted to the old generation.
const promotedOnly = process.env['WEFT_ALLOC_PROMOTED'] === '1';
const session = new Session();
session.connect();
let profiler: GCProfiler | undefined;

function post(method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
}

interface GcEntry { gcType: string; cost: number; beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }

async function open(): Promise<void> {
  profiler = new GCProfiler();
  profiler.start();
  await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !promotedOnly });
}

async function close(): Promise<void> {
  const result = await post('HeapProfiler.stopSampling') as { profile: unknown };
  writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
  const gc = (profiler!.stop() as unknown as { statistics: GcEntry[] }).statistics;
  let allocated = 0;
  let after: number | undefined;
  for (const e of gc) {
    if (after !== undefined) allocated += Math.max(0, e.beforeGC.heapStatistics.usedHeapSize - after);
    after = e.afterGC.heapStatistics.usedHeapSize;
  }
  const byType: Record<string, { count: number; pauseMs: number }> = {};
  for (const e of gc) {
    const t = (byType[e.gcType] ??= { count: 0, pauseMs: 0 });
    t.count++;
    t.pauseMs += e.cost / 1000;
  }
  writeFileSync(join(dir, `${process.pid}.alloc.json`), JSON.stringify({ allocatedBetweenGcs: allocated, gcs: byType }, null, 2));
  profiler = undefined;
}

process.on('SIGUSR2', () => void (profiler === undefined ? open() : close()));
