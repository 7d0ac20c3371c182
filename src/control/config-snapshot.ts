/**
 * The config in force at one moment: every valid resource from every source (watched directories and
 * applied config), immutable. The config store publishes a new one on every change; the registry and the
 * push snapshot are built from it.
 */
import type { AnyResource, KindName, ResourceOf } from '../api/index.ts';

export interface ConfigSnapshot {
  /** Increases with every published change. */
  readonly version: number;
  readonly resources: readonly AnyResource[];
  /** Resources of one kind, in a stable order (namespace, then name). */
  of<K extends KindName>(kind: K): readonly ResourceOf<K>[];
}

/** Builds a snapshot from resources (later duplicates of kind/namespace/name replace earlier ones). */
export function configSnapshot(version: number, resources: readonly AnyResource[]): ConfigSnapshot {
  const byKey = new Map<string, AnyResource>();
  // Keys compare as plain strings (kind, namespace, name): a locale-aware comparison of thousands of
  // resources on every change would cost more than the rest of the snapshot.
  for (const r of resources) byKey.set(`${r.kind}\u0000${r.metadata.namespace}\u0000${r.metadata.name}`, r);
  const keys = [...byKey.keys()].sort();
  const sorted = keys.map((k) => byKey.get(k)!);
  const byKind = new Map<string, AnyResource[]>();
  for (const r of sorted) {
    const list = byKind.get(r.kind);
    if (list === undefined) byKind.set(r.kind, [r]);
    else list.push(r);
  }
  return {
    version,
    resources: sorted,
    of: <K extends KindName>(kind: K) => (byKind.get(kind) ?? []) as unknown as readonly ResourceOf<K>[],
  };
}
