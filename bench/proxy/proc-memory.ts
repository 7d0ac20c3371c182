/**
 * A process's memory from /proc/<pid>/status, split the way it matters for a sidecar: VmRSS (the
 * target's unit), VmHWM (its peak), RssAnon (memory this process alone owns: heaps, stacks) and
 * RssFile (pages of mapped files, mostly the node binary, shared with every other Node process).
 * https://man7.org/linux/man-pages/man5/proc_pid_status.5.html
 */
import { readFileSync } from 'node:fs';

/** MB are 10^6 bytes, as the targets are stated. */
export interface MemoryDetail {
  readonly rssMB: number;
  readonly peakMB: number;
  readonly anonMB: number;
  readonly fileMB: number;
}

export function memoryDetail(pid: number): MemoryDetail {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // /proc writes KiB as "kB".
  const mb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024 / 1e6;
  return { rssMB: mb('VmRSS'), peakMB: mb('VmHWM'), anonMB: mb('RssAnon'), fileMB: mb('RssFile') };
}

/**
 * Resident bytes of glibc malloc: the main arena (`[heap]`) and the arenas of other threads
 * (anonymous read-write mappings at 64 MiB-aligned addresses, glibc's HEAP_MAX_SIZE), in MB.
 * A heuristic for finding where anonymous memory goes, not an exact account.
 */
export function mallocArenas(pid: number): { mainMB: number; threadsMB: number; threadArenas: number } {
  let main = 0;
  let threads = 0;
  let count = 0;
  let kind: 'main' | 'thread' | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m !== null) {
      const start = BigInt(`0x${m[1]}`);
      const name = m[4]!.trim();
      kind = name === '[heap]' ? 'main' : name === '' && m[3] === 'rw-p' && (start & 0x3ffffffn) === 0n ? 'thread' : undefined;
      if (kind === 'thread') count++;
      continue;
    }
    if (kind !== undefined && line.startsWith('Rss:')) {
      const kb = Number(line.split(/\s+/)[1]);
      if (kind === 'main') main += kb;
      else threads += kb;
    }
  }
  return { mainMB: main * 1024 / 1e6, threadsMB: threads * 1024 / 1e6, threadArenas: count };
}

export function formatMemory(m: MemoryDetail): string {
  return `RSS ${m.rssMB.toFixed(1)} MB (anon ${m.anonMB.toFixed(1)}, file ${m.fileMB.toFixed(1)}; peak ${m.peakMB.toFixed(1)})`;
}
