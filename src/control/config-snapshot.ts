/**
 * The config in force at one moment: every valid resource from every source (watched directories and
 * applied config), immutable. The config store publishes a new one on every change; the registry and the
 * push snapshot are built from it.
 */
import type { AnyResource, KindName, ResourceOf } from '../api/index.ts';
import { partitionPoint } from '../util/sorted.ts';

export interface ConfigSnapshot {
  /** Increases with every published change. */
  readonly version: number;
  readonly resources: readonly AnyResource[];
  /** Resources of one kind, in a stable order (namespace, then name). */
  of<K extends KindName>(kind: K): readonly ResourceOf<K>[];
  /** The resource with this key (`Kind/namespace/name`, as `resourceKey`), found by binary search. */
  find(key: string): AnyResource | undefined;
}

/** The order of resources in a snapshot: kind, namespace, name, compared as plain strings. */
export function snapshotOrderKey(r: AnyResource): string {
  return `${r.kind}\u0000${r.metadata.namespace ?? ''}\u0000${r.metadata.name}`;
}

/** `snapshotOrderKey` of the resource whose key (`resourceKey`) is `Kind/namespace/name`. */
export function orderKeyOfKey(key: string): string {
  const [kind = '', namespace = '', name = ''] = key.split('/');
  return `${kind}\u0000${namespace}\u0000${name}`;
}

/**
 * Builds a snapshot from resources (later duplicates of kind/namespace/name replace earlier ones).
 * `presorted`: the caller passes unique resources already in `snapshotOrderKey` order (the store keeps
 * that order between changes that add or remove nothing), which spares sorting thousands of them.
 */
export function configSnapshot(version: number, resources: readonly AnyResource[], presorted = false): ConfigSnapshot {
  let sorted: readonly AnyResource[] = resources;
  if (!presorted) {
    const byKey = new Map<string, AnyResource>();
    // Plain string comparison: a locale-aware one of thousands of resources per change would cost more
    // than the rest of the snapshot.
    for (const r of resources) byKey.set(snapshotOrderKey(r), r);
    sorted = [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  }
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
    find: (key) => {
      const list = byKind.get(key.slice(0, key.indexOf('/')));
      if (list === undefined) return undefined;
      const wanted = orderKeyOfKey(key);
      const found = list[partitionPoint(list, (r) => snapshotOrderKey(r) < wanted)];
      return found !== undefined && snapshotOrderKey(found) === wanted ? found : undefined;
    },
  };
}
