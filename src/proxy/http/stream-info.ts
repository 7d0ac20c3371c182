/**
 * What one HTTP stream did, for access logs and stats: Envoy's response flags (a bitmask, so marking one
 * allocates nothing), the response code, the cause of a local reply, the route, cluster and host it went
 * to, attempts and byte counts. One `StreamInfo` per stream, filled in as the stream progresses.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#config-access-log-format-response-flags
 */

/** Envoy's response flags, in the order Envoy prints them. */
export const FLAG = {
  UH: 1 << 0, // no healthy upstream
  UF: 1 << 1, // upstream connection failure
  UO: 1 << 2, // upstream overflow (circuit breaker)
  NR: 1 << 3, // no route
  URX: 1 << 4, // upstream retry limit exceeded
  NC: 1 << 5, // no cluster
  DT: 1 << 6, // duration timeout
  DC: 1 << 7, // downstream connection termination
  LR: 1 << 8, // local reset
  UR: 1 << 9, // upstream remote reset
  UC: 1 << 10, // upstream connection termination
  DI: 1 << 11, // delay injected
  FI: 1 << 12, // fault injected
  RL: 1 << 13, // rate limited
  UT: 1 << 14, // upstream request timeout
  SI: 1 << 15, // stream idle timeout
  DPE: 1 << 16, // downstream protocol error
  UPE: 1 << 17, // upstream protocol error
  IH: 1 << 18, // invalid x-envoy-* request headers
} as const;

export type FlagName = keyof typeof FLAG;

const FLAG_NAMES = Object.keys(FLAG) as FlagName[];

/** Renders a flag set as Envoy's access log does: `UF,URX`, or `-` when empty. */
export function formatFlags(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (const name of FLAG_NAMES) {
    if ((flags & FLAG[name]) !== 0) out = out === '' ? name : `${out},${name}`;
  }
  return out;
}

export type HttpProtocol = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';

export class StreamInfo {
  readonly startMs = performance.now();
  /** Epoch milliseconds when the stream started (access log `%START_TIME%`). */
  readonly startEpochMs = Date.now();
  protocol: HttpProtocol = 'HTTP/1.1';
  method = '';
  authority = '';
  path = '';
  requestId = '';
  downstreamRemote = '';
  /** Response status sent downstream (0 while none was sent, e.g. on DC). */
  responseCode = 0;
  flags = 0;
  /** Why the response is what it is (Envoy's `%RESPONSE_CODE_DETAILS%`: `via_upstream`, `no_healthy_upstream`…). */
  details = '';
  /** The text of a local reply's `x-weft-error` header, empty for upstream responses. */
  cause = '';
  routeName = '';
  cluster = '';
  /** `address:port` of the last upstream host tried. */
  upstreamHost = '';
  attempts = 0;
  bytesReceived = 0;
  bytesSent = 0;
  /** Milliseconds from start to the end of the stream, set when it completes. */
  durationMs = -1;

  setFlag(flag: number): void {
    this.flags |= flag;
  }

  hasFlag(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }
}
