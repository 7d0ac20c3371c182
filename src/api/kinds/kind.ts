/**
 * A kind's definition: its API group, versions and names, and the one zod schema of its spec from which
 * the TypeScript type (`z.output`), the validation and the Kubernetes CRD schema all derive.
 */
import type * as z from 'zod';

/** How a kind's `metadata.name` is checked (Kubernetes and Istio differ per kind). */
export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';

export interface KindDef<K extends string = string, S extends z.ZodType = z.ZodType> {
  readonly kind: K;
  /** API group; `''` for the core group (`apiVersion: v1`). */
  readonly group: string;
  /** Served versions, the preferred (storage) version first. */
  readonly versions: readonly string[];
  /** Lowercase plural and short names, for the CLI (`weft get vs`). */
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly namespaced: boolean;
  readonly nameRule: NameRule;
  /** The schema of `spec`. */
  readonly spec: S;
  /** Whether a document without `spec` is an error (kinds whose spec has required fields). */
  readonly specRequired: boolean;
}

export function defineKind<const K extends string, S extends z.ZodType>(
  def: Omit<KindDef<K, S>, 'nameRule' | 'specRequired' | 'namespaced'> & Partial<Pick<KindDef<K, S>, 'nameRule' | 'specRequired' | 'namespaced'>>,
): KindDef<K, S> {
  return { nameRule: 'dns1123-subdomain', specRequired: true, namespaced: true, ...def };
}

/** `group/version`, or just `version` for the core group. */
export function apiVersionOf(def: KindDef, version = def.versions[0]!): string {
  return def.group === '' ? version : `${def.group}/${version}`;
}
