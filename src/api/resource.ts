/**
 * The resource model: every config object is `{apiVersion, kind, metadata, spec}` as in Kubernetes,
 * with the spec typed by its kind. Resources are plain data; after validation nothing mutates them.
 */
import type { SourceRef } from './errors.ts';

export interface ObjectMeta {
  readonly name: string;
  /** Always set after validation: the document's namespace, or the default one (`default`). */
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
}

export interface Resource<K extends string = string, S = unknown> {
  readonly apiVersion: string;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly spec: S;
  /** Where it was read from, when it came from a file. */
  readonly source?: SourceRef;
}

export const DEFAULT_NAMESPACE = 'default';

/** `Kind namespace/name` (or `Kind name` for cluster-scoped kinds), as messages name a resource. */
export function resourceLabel(r: { kind: string; metadata: { name: string; namespace?: string } }, namespaced = true): string {
  return namespaced && r.metadata.namespace ? `${r.kind} ${r.metadata.namespace}/${r.metadata.name}` : `${r.kind} ${r.metadata.name}`;
}

/** A stable key for a resource: `Kind/namespace/name`. */
export function resourceKey(r: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
}
