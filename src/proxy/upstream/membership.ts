/**
 * Turns an `Assignment` into a cluster's membership: host views grouped by priority and locality for
 * the picker, reusing the `HostState` (and so the pools and kept-alive connections) of every host that
 * survives (same `ip:port`), and the `HostImpl` object itself when nothing about the host changed.
 * Hosts that left are returned so the cluster can close their pools gracefully.
 */
import type { Assignment, LocalityGroup } from './endpoints.ts';
import type { HostInit } from './host.ts';
import { addressString, HostImpl, HostState } from './host.ts';
import type { LocalityInput } from './picker.ts';

export interface Membership {
  readonly hosts: readonly HostImpl[];
  readonly states: ReadonlyMap<string, HostState>;
  /** Index = priority. */
  readonly levels: readonly (readonly LocalityInput<HostImpl>[])[];
  readonly removed: readonly HostState[];
  /** Whether the set of host addresses changed. */
  readonly changed: boolean;
}

export interface MembershipOptions {
  /**
   * LOGICAL_DNS: one logical host per DNS name whose connections survive address changes; the
   * endpoint's `hostname` is the name and its `address` the latest resolution.
   */
  readonly logical: boolean;
}

interface MutableLocality {
  readonly key: string;
  readonly weight: number | undefined;
  readonly hosts: HostImpl[];
}

function stateKey(address: string, port: number, hostname: string, logical: boolean): string {
  return logical ? `logical:${hostname}:${port}` : addressString(address, port);
}

function hostFor(init: HostInit, state: HostState, previous: ReadonlyMap<HostState, HostImpl[]>): HostImpl {
  for (const old of previous.get(state) ?? []) if (old.same(init)) return old;
  return new HostImpl(init, state);
}

function groupHosts(g: LocalityGroup, states: Map<string, HostState>, prevStates: ReadonlyMap<string, HostState>, previous: ReadonlyMap<HostState, HostImpl[]>, options: MembershipOptions): HostImpl[] {
  return g.endpoints.map((e) => {
    const key = stateKey(e.address, e.port, e.hostname, options.logical);
    let state = states.get(key) ?? prevStates.get(key);
    if (state === undefined || state.closed) state = new HostState(key, e.address, e.port);
    state.dialAddress = e.address;
    states.set(key, state);
    const init: HostInit = { address: e.address, port: e.port, weight: e.weight, health: e.health, hostname: e.hostname, priority: g.priority, locality: g.locality, localityKey: g.key };
    return hostFor(init, state, previous);
  });
}

export function buildMembership(a: Assignment, prev: { readonly states: ReadonlyMap<string, HostState>; readonly hosts: readonly HostImpl[] }, options: MembershipOptions): Membership {
  const previous = new Map<HostState, HostImpl[]>();
  for (const h of prev.hosts) {
    const list = previous.get(h.state);
    if (list === undefined) previous.set(h.state, [h]);
    else list.push(h);
  }
  const states = new Map<string, HostState>();
  const levels: Map<string, MutableLocality>[] = [];
  const hosts: HostImpl[] = [];
  for (const g of a.groups) {
    const groupHostList = groupHosts(g, states, prev.states, previous, options);
    hosts.push(...groupHostList);
    while (levels.length <= g.priority) levels.push(new Map());
    const level = levels[g.priority]!;
    const existing = level.get(g.key);
    // Two entries for the same locality and priority merge; the first one's weight counts.
    if (existing === undefined) level.set(g.key, { key: g.key, weight: g.weight, hosts: groupHostList });
    else existing.hosts.push(...groupHostList);
  }
  const removed = [...prev.states.values()].filter((s) => states.get(s.key) !== s);
  const changed = removed.length > 0 || [...states.keys()].some((k) => !prev.states.has(k));
  return { hosts, states, levels: levels.map((l) => [...l.values()]), removed, changed };
}
