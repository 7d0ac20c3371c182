/**
 * Keeps the CPUs out of their idle (halt) states while a latency benchmark runs, through Linux's PM QoS
 * interface: a request of 0 µs written to /dev/cpu_dma_latency holds while the file stays open (what
 * tuned's latency-performance profile and cyclictest do). On this machine's VM, a vCPU that halts between
 * two changes is descheduled by the host, and the first tens of milliseconds after it wakes run up to
 * ~1.7× slower (20 ms of arithmetic after 500 ms asleep: p50 20.4 → 33.5 ms, p90 33 ms; with the request
 * held: 19.7 / 20.2 ms). That is the host's, not the code under test's. Needs root; without it, or on a
 * system without the device, nothing is held and the report says so.
 * The price: a guest that never halts is charged for it by the host. In the data-plane benchmark with
 * the request held, 5 of 24 runs had one ~100 ms stall (none of 12 without), so bench:proxy and bench
 * keep the CPUs halting unless asked (`--poll-cpus`); see bench/proxy.bench.ts for what polling saves.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const DEVICE = '/dev/cpu_dma_latency';

export interface CpuLatencyHold {
  /** Whether the request is in force. */
  readonly held: boolean;
  /** Why not, when it is not. */
  readonly reason?: string;
  release(): void;
}

/** How a run's CPUs idled: `polling` while the request was held, else `halting`. */
export type CpuIdle = 'polling' | 'halting';

export const cpuIdleOf = (hold: CpuLatencyHold): CpuIdle => (hold.held ? 'polling' : 'halting');

/** One line for a run's header: whether the CPUs polled or could halt (between `between`), and why. */
export function cpuIdleLine(hold: CpuLatencyHold, between: string): string {
  return hold.held
    ? 'CPU idle: polling for the run (PM QoS request of 0 µs on /dev/cpu_dma_latency)'
    : `CPU idle: the CPUs may halt between ${between} (${hold.reason}); on a VM, wake-ups add the host's noise`;
}

/** Holds the request when `wanted`; otherwise says `why` not. */
export function cpuLatencyIf(wanted: boolean, why: string): CpuLatencyHold {
  return wanted ? holdCpuLatency() : notHeld(why);
}

/** The data-plane benchmarks' `--poll-cpus`: the CPUs halt unless it was given. */
export function pollCpusIf(given: boolean): CpuLatencyHold {
  return cpuLatencyIf(given, 'the default; --poll-cpus keeps them polling');
}

/** No request held, for `reason`. */
export function notHeld(reason: string): CpuLatencyHold {
  return { held: false, reason, release: () => undefined };
}

export function holdCpuLatency(): CpuLatencyHold {
  let fd: number | undefined;
  try {
    fd = openSync(DEVICE, 'w');
    writeSync(fd, Buffer.alloc(4)); // a 32-bit latency in µs: 0
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    return notHeld(`cannot ${fd === undefined ? 'open' : 'write'} ${DEVICE}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const held = fd;
  let open = true;
  return {
    held: true,
    release: () => {
      if (open) closeSync(held);
      open = false;
    },
  };
}
