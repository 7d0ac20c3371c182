/**
 * What Linux's /proc says about a process: CPU time (utime + stime, all threads) and memory (VmRSS now,
 * VmHWM the peak), and a wait for it to go quiet. https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Kernel clock ticks per second: the resolution of CPU times (10 ms at the usual 100). */
export const CLK_TCK = clockTicks();

/** CPU seconds the process has used so far (user + system). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** Resident memory in MB (10^6 bytes, as the targets are stated). */
export interface Memory {
  readonly rssMB: number;
  readonly peakMB: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // /proc writes KiB as "kB".
  const mb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024 / 1e6;
  return { rssMB: mb('VmRSS'), peakMB: mb('VmHWM') };
}

/**
 * Resolves once the process used at most one clock tick of CPU in each of `windows` consecutive windows
 * of `windowMs` (it has finished a push and its follow-ups); true when it went quiet, false on timeout.
 */
export async function waitIdle(pid: number, timeoutMs: number, windowMs = 100, windows = 2): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  let quiet = 0;
  let last = cpuSeconds(pid);
  while (quiet < windows) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, windowMs));
    const now = cpuSeconds(pid);
    quiet = now - last <= 1 / CLK_TCK + 1e-9 ? quiet + 1 : 0;
    last = now;
  }
  return true;
}
