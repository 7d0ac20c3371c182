/**
 * bench:proxy's open-loop model over HTTP/2: request k is scheduled at t0 + k / rate whatever happened
 * before and latency counts from that scheduled time (HDR histograms, µs). HTTP/2 multiplexes, so
 * request k goes out at once as a new stream on connection k mod N instead of waiting for a free
 * connection. Plain requests are GETs that must return 200 with `expectBytes`; gRPC requests are unary
 * POSTs (`application/grpc`, one small length-prefixed message) that must return 200, `expectBytes` of
 * framed reply and `grpc-status: 0` in the trailers. The same result shape as the HTTP/1.1 generator.
 */
import http2 from 'node:http2';
import hdr from 'hdr-histogram-js';
import type { OpenLoopResult, Percentiles } from '../proxy/generator.ts';

export interface H2Target {
  /** Where the connections go (the app, or a sidecar's outbound listener). */
  readonly host: string;
  readonly port: number;
  /** `:authority`: the service the request is for. */
  readonly authority: string;
  readonly path: string;
  readonly grpc: boolean;
  /** Body bytes of a good reply (for gRPC: with the 5-byte message prefix). */
  readonly expectBytes: number;
}

export interface H2OpenLoopSpec extends H2Target {
  readonly rate: number;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly drainMs: number;
}

type Histogram = ReturnType<typeof hdr.build>;

const histogram = (): Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });

function percentiles(h: Histogram): Percentiles {
  const at = (p: number) => h.getValueAtPercentile(p);
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: h.maxValue, mean: Math.round(h.mean) };
}

/** A gRPC request message: the 5-byte prefix (uncompressed, length 16) and 16 opaque bytes. */
const GRPC_REQUEST = Buffer.concat([Buffer.from([0, 0, 0, 0, 16]), Buffer.alloc(16, 'q')]);

function connect(t: H2Target): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${t.host}:${t.port}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** One request on `session`; `done` gets undefined when the reply was right, otherwise why not. */
export function sendH2(session: http2.ClientHttp2Session, t: H2Target, done: (problem: string | undefined) => void): void {
  const headers: http2.OutgoingHttpHeaders = { ':method': t.grpc ? 'POST' : 'GET', ':path': t.path, ':authority': t.authority, ':scheme': 'http' };
  if (t.grpc) Object.assign(headers, { 'content-type': 'application/grpc', te: 'trailers' });
  let status = 0;
  let bytes = 0;
  let grpcStatus: string | undefined;
  let grpcMessage = '';
  let error = '';
  let req: http2.ClientHttp2Stream;
  try {
    req = session.request(headers, { endStream: !t.grpc });
  } catch (e) {
    done(e instanceof Error ? e.message : String(e));
    return;
  }
  req.on('response', (h) => {
    status = Number(h[':status']);
    error = String(h['x-weft-error'] ?? '');
    if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    if (h['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(h['grpc-message']));
  });
  req.on('trailers', (h) => {
    if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    if (h['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(h['grpc-message']));
  });
  req.on('data', (d: Buffer) => (bytes += d.length));
  req.on('error', () => {});
  req.on('close', () => {
    if (status !== 200) done(`${status === 0 ? `stream reset (code ${req.rstCode})` : status} ${error}`.trim());
    else if (t.grpc && grpcStatus !== '0') done(`grpc-status ${grpcStatus ?? 'missing'} ${grpcMessage}`.trim());
    else done(bytes === t.expectBytes ? undefined : `body ${bytes} bytes, expected ${t.expectBytes}`);
  });
  if (t.grpc) req.end(GRPC_REQUEST);
}

/** Runs the open loop; `onMeasuring` fires when the warm-up ends and recording starts. */
export async function h2OpenLoop(spec: H2OpenLoopSpec, onMeasuring: () => void): Promise<OpenLoopResult> {
  const sessions = await Promise.all(Array.from({ length: spec.connections }, () => connect(spec)));
  const corrected = histogram();
  const uncorrected = histogram();
  const errorSamples: string[] = [];
  let errors = 0;
  const interval = 1000 / spec.rate;
  const t0 = performance.now() + 10;
  const measureFrom = t0 + spec.warmupMs;
  const total = Math.round((spec.warmupMs + spec.durationMs) / interval);
  let k = 0, completed = 0, outstanding = 0, lastEnd = measureFrom, measuring = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));

  const issue = (scheduled: number, session: http2.ClientHttp2Session) => {
    const sent = performance.now();
    outstanding++;
    sendH2(session, spec, (problem) => {
      const end = performance.now();
      outstanding--;
      if (scheduled >= measureFrom) {
        lastEnd = end;
        if (problem === undefined) {
          completed++;
          corrected.recordValue(Math.max(1, Math.round((end - scheduled) * 1000)));
          uncorrected.recordValue(Math.max(1, Math.round((end - sent) * 1000)));
        } else {
          errors++;
          if (errorSamples.length < 5 && !errorSamples.includes(problem)) errorSamples.push(problem);
        }
      }
      if (k === total && outstanding === 0) finish();
    });
  };
  const tick = () => {
    const now = performance.now();
    if (!measuring && now >= measureFrom) {
      measuring = true;
      onMeasuring();
    }
    for (; k < total && t0 + k * interval <= now; k++) issue(t0 + k * interval, sessions[k % sessions.length]!);
    if (k < total) setTimeout(tick, Math.max(0, t0 + k * interval - performance.now()));
  };
  setTimeout(tick, 10);

  const deadline = new Promise<boolean>((r) => setTimeout(() => r(false), t0 - performance.now() + spec.warmupMs + spec.durationMs + spec.drainMs).unref());
  const drained = await Promise.race([finished.then(() => true), deadline]);
  for (const s of sessions) s.destroy();
  if (!drained) {
    errors += outstanding;
    errorSamples.push(`${outstanding} without a reply within ${spec.drainMs} ms after the run`);
  }
  const durationS = Math.max(spec.durationMs, lastEnd - measureFrom) / 1000;
  const scheduled = total - Math.round(spec.warmupMs / interval);
  return { scheduled, completed, errors, errorSamples, durationS, achievedRps: completed / durationS, corrected: percentiles(corrected), uncorrected: percentiles(uncorrected) };
}
