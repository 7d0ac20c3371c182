/**
 * Which malloc the process runs on, for `/memory`: bin/weft.js preloads jemalloc into
 * a proxy when the system has it, so the answer depends on the machine. Read once from the process's
 * own mappings (Linux): a preloaded allocator library shows up there by name.
 */
import { readFileSync } from 'node:fs';

export type Allocator = 'jemalloc' | 'tcmalloc' | 'mimalloc' | 'glibc' | 'system';

const LIBRARIES: readonly [RegExp, Allocator][] = [
  [/\/libjemalloc[^/]*\.so/, 'jemalloc'],
  [/\/libtcmalloc[^/]*\.so/, 'tcmalloc'],
  [/\/libmimalloc[^/]*\.so/, 'mimalloc'],
];

/** The allocator named by a process's memory map (`/proc/<pid>/maps` text); glibc's when none is loaded. */
export function allocatorIn(maps: string): Allocator {
  for (const [library, name] of LIBRARIES) if (library.test(maps)) return name;
  return 'glibc';
}

let cached: Allocator | undefined;

/** This process's allocator ('system' where /proc is not there to say). */
export function allocatorInUse(): Allocator {
  if (cached === undefined) {
    try {
      cached = allocatorIn(readFileSync('/proc/self/maps', 'utf8'));
    } catch {
      cached = 'system';
    }
  }
  return cached;
}
