/**
 * One listener name in the manager: the version serving it, the version waiting to (warming or
 * binding), the chain runtimes its versions share, its connection count; and its status as the
 * admin endpoint and tests see it.
 */
import type { Proto } from '../core/contracts.ts';
import type { ChainRuntime } from './chain-runtime.ts';
import type { CompiledListener, TrafficDirection } from './compile-listener.ts';
import type { ConnectionLimit, ListenerVersion } from './listener-version.ts';

export type ListenerState = 'warming' | 'starting' | 'active' | 'failed' | 'api' | 'stopped';

export interface ListenerStatus {
  readonly name: string;
  readonly state: ListenerState;
  readonly address: string;
  /** The bound port once active (the kernel's choice for port 0), else the configured one. */
  readonly port: number;
  readonly bindToPort: boolean;
  readonly direction: TrafficDirection;
  /** A newer version waits for its dependencies while the active one serves. */
  readonly warming: boolean;
  readonly connections: number;
  /** Why the last version could not start (bind failure, filter construction). */
  readonly error: string | undefined;
}

export interface ListenersDump {
  readonly active: { readonly name: string; readonly listener: Proto }[];
  readonly warming: { readonly name: string; readonly listener: Proto }[];
  readonly draining: { readonly name: string; readonly connections: number }[];
}

export interface Entry {
  readonly name: string;
  text: string;
  active: ListenerVersion | undefined;
  /** The version waiting to become active: warming, or binding its socket. */
  next: ListenerVersion | undefined;
  api: CompiledListener | undefined;
  error: string | undefined;
  stopped: boolean;
  /** Live (not draining) chain runtimes by direction and chain key, for reuse by the next version. */
  readonly runtimes: Map<string, ChainRuntime>;
  readonly limit: ConnectionLimit;
}

export function newEntry(name: string, maxConnections: number): Entry {
  return { name, text: '', active: undefined, next: undefined, api: undefined, error: undefined, stopped: false, runtimes: new Map(), limit: { open: 0, max: maxConnections } };
}

export function entryStatus(e: Entry): ListenerStatus {
  const version = e.active ?? e.next;
  const c = version?.compiled ?? e.api;
  const state: ListenerState = e.api !== undefined ? 'api'
    : e.active !== undefined ? 'active'
    : e.next !== undefined ? (e.stopped ? 'stopped' : e.next.state === 'starting' ? 'starting' : 'warming')
    : e.stopped ? 'stopped' : 'failed';
  return {
    name: e.name,
    state,
    address: c?.host ?? '',
    port: e.active?.socket?.boundPort ?? c?.port ?? 0,
    bindToPort: c?.bindToPort ?? true,
    direction: c?.direction ?? 'UNSPECIFIED',
    warming: e.active !== undefined && e.next?.state === 'warming',
    connections: e.limit.open,
    error: e.error,
  };
}
