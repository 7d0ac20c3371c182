/**
 * What changed between two registry snapshots, for push scoping: which hosts are affected and whether
 * only endpoints moved (every service definition is as before), which the control plane turns into an
 * EDS-only push, as Istio's EDS fast path does.
 */
import type { RegistrySnapshot, Service, Workload } from './model.ts';
import { memoized } from '../util/memo.ts';

export interface RegistryChange {
  /** Only endpoints changed (workloads joined, left or changed); every service definition is unchanged. */
  readonly endpointsOnly: boolean;
  /** Hostnames whose service definition or endpoints may have changed. */
  readonly hosts: ReadonlySet<string>;
  /** Why: `config`, `proxy-added`, `proxy-updated`, `proxy-removed`. */
  readonly reason: string;
}

/** Fingerprints memoised per (immutable) item: registry objects of unchanged resources are handed on as they are. */
const printed = new WeakMap<object, string>();
const print = (it: object): string => JSON.stringify(it);

/** An item's fingerprint: its content as text, memoised per object. */
export function fingerprint(item: object): string {
  return memoized(printed, item, print);
}

/** Fingerprints of a list by key: a cheap, exact way to tell what changed between two builds. */
export function fingerprints<T extends object>(items: readonly T[], key: (t: T) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const it of items) out.set(key(it), fingerprint(it));
  return out;
}

/** Keys whose fingerprint differs (added, removed or changed). */
export function changedKeys(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of after) if (before.get(k) !== v) out.push(k);
  for (const k of before.keys()) if (!after.has(k)) out.push(k);
  return out;
}

export function serviceKey(s: Service): string {
  return `${s.kind}/${s.namespace}/${s.name}/${s.hostname}`;
}

/** Hostnames of the services that select any of `workloads` in `snapshot` (their endpoints change with them). */
export function hostsSelecting(snapshot: RegistrySnapshot, workloads: Iterable<Workload>, into: Set<string>): void {
  for (const w of workloads) for (const s of snapshot.servicesOf(w)) into.add(s.hostname);
}
