/**
 * Everything one `npm run bench` measured, as written to bench/results/benchmarks.json and rendered
 * into BENCHMARKS.md: the run's context, the settings, every figure, the goals' verdicts, and the
 * problems met on the way (a part that failed is reported, the rest of the run goes on).
 */
import type { CpuIdle } from '../cpu-latency.ts';
import type { ControlRun } from './control-plane.ts';
import type { Goal } from './goals.ts';
import type { H2Results } from './h2.ts';
import type { PathRun } from './http1.ts';
import type { MaxRow } from './max.ts';
import type { ProxyProfile } from './profile.ts';
import type { RunInfo } from './run-info.ts';
import type { Tools } from './tools.ts';

export interface Settings {
  readonly quick: boolean;
  readonly rate: number;
  readonly connections: readonly number[];
  readonly warmupS: number;
  readonly durationS: number;
  /** Seconds of load through every two-hop path before the first recorded run (absent: none). */
  readonly settleS?: number;
  readonly bodyBytes: number;
  readonly peers: readonly string[];
  readonly max: { readonly connections: number; readonly durationS: number };
  readonly h2: { readonly connections: number; readonly durationS: number; readonly maxClients: number; readonly maxStreams: number; readonly maxDurationS: number };
  readonly control: { readonly cells: readonly string[]; readonly protocol: string; readonly changes: number; readonly kindBudgetS: number };
  readonly profileS: number;
  readonly budgetS: number;
}

export interface Placement {
  readonly client: string;
  readonly server: string;
}

export interface BenchResults {
  readonly info: RunInfo;
  readonly settings: Settings;
  /** undefined: every process unpinned. */
  readonly placement: Placement | undefined;
  /** `polling`: a PM QoS request kept the CPUs out of halt for the run (bench/cpu-latency.ts); absent in older results. */
  readonly cpuIdle?: CpuIdle;
  readonly tools: Tools;
  /** What ran where, one line per process (pids, addresses, CPUs). */
  readonly processes: readonly string[];
  readonly http1: readonly PathRun[];
  /** The settling runs before `http1` (absent or empty: none). */
  readonly settle?: readonly PathRun[];
  readonly max: readonly MaxRow[];
  readonly h2: H2Results | undefined;
  readonly control: readonly ControlRun[];
  readonly profile: readonly ProxyProfile[];
  readonly goals: readonly Goal[];
  readonly problems: readonly string[];
  readonly loadAtEnd: readonly number[];
  readonly wallS: number;
}
