/**
 * The load generator, fortio's model: `connections` keep-alive HTTP/1.1 connections, each sending its
 * share of a fixed request rate one request at a time. Open loop: request k is *scheduled* at
 * t0 + k / rate whatever happened before, goes to connection k mod N, and waits there if that
 * connection is still busy; latency counts from the scheduled time (coordinated-omission correction,
 * https://github.com/giltene/wrk2), so a stalled proxy shows as latency, not as a slower rate. The time
 * from the actual write is kept too (uncorrected). Microseconds go into HDR histograms. Closed loop:
 * every connection sends back to back, to find the maximum throughput. Connections are h1-client.ts's
 * (lean, like fortio's), not node:http's, whose client cost more CPU than the proxies measured.
 */
import hdr from 'hdr-histogram-js';
import { H1ClientConnection } from './h1-client.ts';

export interface Target {
  /** Where the connections go: the app itself, or a sidecar's outbound listener. */
  readonly host: string;
  readonly port: number;
  /** The request target: origin-form (`/`) or absolute-form through a proxy (`http://svc:9080/`). */
  readonly path: string;
  readonly hostHeader: string;
  /** Body bytes a good reply carries. */
  readonly expectBytes: number;
}

export interface OpenLoopSpec extends Target {
  readonly rate: number;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** How long replies still outstanding at the end get before they count as errors. */
  readonly drainMs: number;
}

/** Microseconds. */
export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export interface OpenLoopResult {
  readonly scheduled: number;
  readonly completed: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly durationS: number;
  readonly achievedRps: number;
  /** From the scheduled send time (what a user sees). */
  readonly corrected: Percentiles;
  /** From the actual write (service time only). */
  readonly uncorrected: Percentiles;
}

export interface ClosedLoopResult {
  readonly completed: number;
  readonly errors: number;
  readonly durationS: number;
  readonly rps: number;
}

type Histogram = ReturnType<typeof hdr.build>;

function histogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

function percentiles(h: Histogram): Percentiles {
  const at = (p: number) => h.getValueAtPercentile(p);
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: h.maxValue, mean: Math.round(h.mean) };
}

class Errors {
  count = 0;
  readonly samples: string[] = [];

  add(problem: string): void {
    this.count++;
    if (this.samples.length < 5 && !this.samples.includes(problem)) this.samples.push(problem);
  }
}

function connection(t: Target): H1ClientConnection {
  return new H1ClientConnection(t.host, t.port, t.path, t.hostHeader, t.expectBytes);
}

/** A connection and the scheduled times of the requests waiting for it. */
class Lane {
  readonly conn: H1ClientConnection;
  readonly queue: number[] = [];
  busy = false;

  constructor(target: Target) {
    this.conn = connection(target);
  }
}

/** Runs the open loop; `onMeasuring` fires when the warm-up ends and recording starts. */
export function openLoop(spec: OpenLoopSpec, onMeasuring: () => void): Promise<OpenLoopResult> {
  const corrected = histogram();
  const uncorrected = histogram();
  const errors = new Errors();
  const lanes = Array.from({ length: spec.connections }, () => new Lane(spec));
  const interval = 1000 / spec.rate;
  const t0 = performance.now() + 10;
  const measureFrom = t0 + spec.warmupMs;
  const total = Math.round((spec.warmupMs + spec.durationMs) / interval);
  const scheduledInWindow = total - Math.round(spec.warmupMs / interval);
  let k = 0;
  let completed = 0;
  let outstanding = 0;
  let measuring = false;
  let lastEnd = measureFrom;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));

  const pump = (lane: Lane) => {
    if (lane.busy || lane.queue.length === 0) return;
    const scheduled = lane.queue.shift()!;
    const sent = performance.now();
    lane.busy = true;
    lane.conn.send((problem) => {
      const end = performance.now();
      lane.busy = false;
      outstanding--;
      if (scheduled >= measureFrom) {
        lastEnd = end;
        if (problem !== undefined) errors.add(problem);
        else {
          completed++;
          corrected.recordValue(Math.max(1, Math.round((end - scheduled) * 1000)));
          uncorrected.recordValue(Math.max(1, Math.round((end - sent) * 1000)));
        }
      }
      pump(lane);
      if (k === total && outstanding === 0) finish();
    });
  };

  const tick = () => {
    const now = performance.now();
    if (!measuring && now >= measureFrom) {
      measuring = true;
      onMeasuring();
    }
    for (; k < total && t0 + k * interval <= now; k++) {
      const lane = lanes[k % lanes.length]!;
      lane.queue.push(t0 + k * interval);
      outstanding++;
      pump(lane);
    }
    if (k < total) setTimeout(tick, Math.max(0, t0 + k * interval - performance.now()));
  };
  setTimeout(tick, 10);

  return (async () => {
    const drained = await Promise.race([finished.then(() => true), scheduleEnd(spec, t0).then(() => false)]);
    for (const lane of lanes) lane.conn.close();
    const unfinished = drained ? 0 : outstanding;
    for (let i = 0; i < unfinished; i++) errors.add(`no reply within ${spec.drainMs} ms after the run`);
    const durationS = Math.max(spec.durationMs, lastEnd - measureFrom) / 1000;
    return {
      scheduled: scheduledInWindow, completed, errors: errors.count, errorSamples: errors.samples, durationS,
      achievedRps: completed / durationS, corrected: percentiles(corrected), uncorrected: percentiles(uncorrected),
    };
  })();
}

/** Resolves when the schedule is over and the drain time has passed too. */
function scheduleEnd(spec: OpenLoopSpec, t0: number): Promise<void> {
  const ms = t0 - performance.now() + spec.warmupMs + spec.durationMs + spec.drainMs;
  return new Promise((r) => setTimeout(r, Math.max(0, ms)).unref());
}

/** Every connection sends back to back for `durationMs` (after `warmupMs`); the rate achieved. */
export async function closedLoop(target: Target, connections: number, warmupMs: number, durationMs: number): Promise<ClosedLoopResult> {
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const stopAt = measureFrom + durationMs;
  let completed = 0;
  let errors = 0;
  const lane = (conn: H1ClientConnection) => new Promise<void>((resolve) => {
    const next = () => {
      if (performance.now() >= stopAt) return resolve();
      conn.send((problem) => {
        if (performance.now() >= measureFrom && performance.now() < stopAt) {
          if (problem === undefined) completed++;
          else errors++;
        }
        next();
      });
    };
    next();
  });
  const conns = Array.from({ length: connections }, () => connection(target));
  await Promise.all(conns.map(lane));
  for (const c of conns) c.close();
  return { completed, errors, durationS: durationMs / 1000, rps: completed / (durationMs / 1000) };
}
