/**
 * What a proxy may reach: Istio's SidecarScope. A `Sidecar` resource selecting the workload (or the
 * namespace's selector-less one, or the root namespace's) lists egress hosts as `namespace/host`;
 * without one, everything exported to the proxy's namespace is reachable, as in Istio.
 * https://istio.io/latest/docs/reference/config/networking/sidecar/
 */
import type { ResourceOf } from '../../api/index.ts';
import { hostMatches } from '../../api/index.ts';

export type SidecarResource = ResourceOf<'Sidecar'>;

export interface EgressHost {
  /** `*`, `~`, or a namespace name (`.` resolved to the Sidecar's namespace). */
  readonly namespace: string;
  readonly host: string;
}

export interface SidecarScope {
  /** Cache key: the Sidecar resource behind the scope, or `default`. */
  readonly key: string;
  readonly sidecar?: SidecarResource;
  /** Egress hosts of the catch-all egress listener; undefined = everything visible. */
  readonly egress?: readonly EgressHost[];
  readonly outboundMode: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

export function parseEgressHost(entry: string, sidecarNamespace: string): EgressHost {
  const slash = entry.indexOf('/');
  const ns = slash < 0 ? '*' : entry.slice(0, slash);
  const host = slash < 0 ? entry : entry.slice(slash + 1);
  return { namespace: ns === '.' ? sidecarNamespace : ns, host };
}

/** Whether a config object (service, VirtualService…) in `namespace` with host `host` is in scope. */
export function inScope(scope: SidecarScope, namespace: string, host: string): boolean {
  if (scope.egress === undefined) return true;
  return scope.egress.some((e) => e.namespace !== '~' && (e.namespace === '*' || e.namespace === namespace) && hostMatches(e.host, host));
}

export function scopeFrom(sidecar: SidecarResource | undefined, meshMode: 'ALLOW_ANY' | 'REGISTRY_ONLY'): SidecarScope {
  if (sidecar === undefined) return { key: 'default', outboundMode: meshMode };
  const ns = sidecar.metadata.namespace;
  const egress = sidecar.spec.egress ?? [];
  const catchAll = egress.find((e) => e.port === undefined) ?? egress[egress.length - 1];
  const mode = sidecar.spec.outboundTrafficPolicy?.mode ?? meshMode;
  return {
    key: `${ns}/${sidecar.metadata.name}@${sidecar.metadata.resourceVersion ?? ''}`,
    sidecar,
    ...(catchAll !== undefined ? { egress: catchAll.hosts.map((h) => parseEgressHost(h, ns)) } : {}),
    outboundMode: mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY',
  };
}
