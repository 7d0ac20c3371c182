/**
 * What the two ADS variants share on the client side: the host a session runs in (the client's types,
 * node, timers, callbacks) and the session contract. A session lives exactly as long as one gRPC stream;
 * everything that must survive a reconnect (resources, versions, subscriptions) lives in the TypeStates.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol
 */

import { PUSH_ORDER } from '../../xds/type-urls.ts';
import type { TypeState } from './type-state.ts';
import type { NodeProto } from './wire.ts';

export type AdsMode = 'delta' | 'sotw';

/** The NACK message is capped so a response with thousands of bad resources stays a sane request. */
const MAX_MESSAGE = 32 * 1024;

/** Joins problems into one NACK message, capped at MAX_MESSAGE characters. */
export function nackMessage(problems: readonly string[]): string {
  let out = '';
  for (let i = 0; i < problems.length; i++) {
    const next = (i === 0 ? '' : '; ') + problems[i];
    if (out.length + next.length > MAX_MESSAGE) return `${out}; … and ${problems.length - i} more problems`;
    out += next;
  }
  return out;
}

/** google.rpc.Code INVALID_ARGUMENT, the code Envoy puts in a NACK's error_detail. */
export const NACK_CODE = 3;

export interface SessionHost {
  readonly node: NodeProto;
  readonly types: ReadonlyMap<string, TypeState>;
  /** Initial fetch timeout of a wanted name, from when its subscription is sent (ms; Infinity for none). */
  readonly initialFetchTimeoutMs: number;
  /** The initial fetch timeout of `name` passed without it arriving. */
  expired(state: TypeState, name: string): void;
  /** A response was accepted (problems empty) or rejected. */
  handled(state: TypeState, version: string, problems: readonly string[], message: string): void;
  /** A response of a type nobody subscribed to. */
  unexpected(typeUrl: string): void;
}

export interface Session<Response> {
  readonly mode: AdsMode;
  /** Sends the first request of every active type; the first request of the stream carries the node. */
  start(): void;
  /** Tells the server about a changed subscription of `state` (no-op when nothing changed). */
  resubscribe(state: TypeState): void;
  /** Handles one response: accept, then ACK or NACK. */
  onResponse(response: Response): void;
}

const rank = (typeUrl: string): number => {
  const i = PUSH_ORDER.indexOf(typeUrl);
  return i < 0 ? PUSH_ORDER.length : i;
};

/** Types in Envoy's make-before-break order (clusters, endpoints, listeners, routes). */
export function inRequestOrder(types: ReadonlyMap<string, TypeState>): TypeState[] {
  return [...types.values()].sort((a, b) => rank(a.typeUrl) - rank(b.typeUrl));
}

/** Starts the initial-fetch timers of the names just subscribed. */
export function armTimers(host: SessionHost, state: TypeState): void {
  state.armTimers(host.initialFetchTimeoutMs, (name) => host.expired(state, name));
}
