/**
 * Naming and selection rules the registry shares: Kubernetes service host names, `exportTo`
 * normalisation and label selection, as Istio defines them (short names: `resolveHost` in api).
 */

import { DOMAIN_SUFFIX } from '../api/index.ts';

/** A Kubernetes Service's host: `<name>.<namespace>.svc.cluster.local`. */
export function serviceHostname(name: string, namespace: string): string {
  return `${name}.${namespace}.${DOMAIN_SUFFIX}`;
}

/** `exportTo` with `.` replaced by the namespace; empty or absent means everywhere (`*`). */
export function resolveExportTo(exportTo: readonly string[] | undefined, namespace: string): readonly string[] {
  if (exportTo === undefined || exportTo.length === 0) return ['*'];
  return [...new Set(exportTo.map((e) => (e === '.' ? namespace : e)))];
}

/** The `networking.istio.io/exportTo` annotation of a Service (comma-separated), as Istio reads it. */
export function exportToAnnotation(annotations: Readonly<Record<string, string>> | undefined): string[] | undefined {
  const v = annotations?.['networking.istio.io/exportTo'];
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return list.length === 0 ? undefined : list;
}

/** Whether `labels` include every key/value of `selector` (an empty selector selects everything). */
export { selects } from '../api/index.ts';
