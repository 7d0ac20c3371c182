/**
 * The messages between the benchmark's orchestrator and its sidecar fleet (a child process, over Node's
 * IPC channel): one request at a time, each answered by one reply carrying the same `id`.
 */

import type { AdsProtocol } from './sidecar-wire.ts';

export type FleetRequest =
  | { readonly cmd: 'connect'; readonly xdsPort: number; readonly proxies: number; readonly services: number; readonly timeoutMs: number; readonly protocol: AdsProtocol }
  /** Applies `yaml` through the HTTP API and waits for every sidecar to ACK a new version of `typeUrl`. */
  | { readonly cmd: 'change'; readonly httpUrl: string; readonly yaml: string; readonly typeUrl: string; readonly timeoutMs: number }
  /** Connects one more sidecar, a new workload of svc-0, and waits for every other sidecar to ACK a new version of `typeUrl`. */
  | { readonly cmd: 'join'; readonly typeUrl: string; readonly timeoutMs: number }
  /** Responses received per type since the previous `counters` (or the start), then resets them. */
  | { readonly cmd: 'counters' }
  | { readonly cmd: 'close' };

export interface ConnectResult {
  /** From the first stream opening to the last sidecar ACKing every type it subscribed to. */
  readonly ms: number;
  readonly synced: number;
  /** Bytes each synced sidecar received until it was synced. */
  readonly bytesPerProxy: readonly number[];
  /** Resources per type (short name) in the first sidecar's latest responses. */
  readonly resources: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
  readonly cpuMs: number;
}

export interface ChangeResult {
  /** Round trip of the `POST /apply` request (undefined for a join). */
  readonly triggerMs: number | undefined;
  /** Per converged sidecar: from the change's start (apply request, new stream) to its ACK of the first new version. */
  readonly latenciesMs: readonly number[];
  /** Per converged sidecar: size of that response. */
  readonly bytes: readonly number[];
  /** Sidecars that had not converged when the wait timed out. */
  readonly missing: number;
  readonly errors: readonly string[];
  readonly cpuMs: number;
  /** Time the fleet's main thread spent in garbage collection between the trigger and the last ACK. */
  readonly gcMs: number;
  /** A join only: from the new stream opening to the joining sidecar ACKing all it subscribed to (undefined: not within the timeout). */
  readonly joinerSyncMs?: number;
}

export type Counters = Readonly<Record<string, { readonly responses: number; readonly bytes: number }>>;

export type FleetReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

export type FleetMessage = { readonly id: number; readonly request: FleetRequest };
