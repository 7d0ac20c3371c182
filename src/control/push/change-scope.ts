/**
 * Which xDS types a config change can affect (Istio's per-type "needs push" predicates, pilot/pkg/xds/
 * cds.go, eds.go…). Kinds that feed the registry (Service, ServiceEntry, WorkloadEntry, WorkloadGroup)
 * are decided by the registry's own change event (endpoint-only or not), so they map to nothing here.
 */
import { TYPE } from '../../xds/type-urls.ts';
import type { Scope } from './debouncer.ts';

const REGISTRY_KINDS = new Set(['Service', 'ServiceEntry', 'WorkloadEntry', 'WorkloadGroup']);

/** Whether a change to resources of `kinds` can change the registry (services, workloads). */
export function feedsRegistry(kinds: Iterable<string>): boolean {
  for (const k of kinds) if (REGISTRY_KINDS.has(k)) return true;
  return false;
}

const BY_KIND: Readonly<Record<string, Scope>> = {
  // Routes (and their VHDS virtual hosts), and the listeners that carry TCP/TLS routes and gateway servers.
  VirtualService: new Set([TYPE.route, TYPE.virtualHost, TYPE.listener]),
  // Clusters (subsets, policies), their endpoints (subset membership), and routes (a route to a subset
  // that appears or disappears changes with the consistency pass).
  DestinationRule: new Set([TYPE.cluster, TYPE.endpoint, TYPE.route, TYPE.virtualHost]),
  Gateway: new Set([TYPE.listener, TYPE.route]),
  // Scope changes what every type holds.
  Sidecar: 'all',
};

/** The types a change to resources of `kinds` may affect; an empty set when nothing weft serves depends on them. */
export function typesForKinds(kinds: Iterable<string>): Scope {
  const out = new Set<string>();
  for (const kind of kinds) {
    if (REGISTRY_KINDS.has(kind)) continue;
    const scope = BY_KIND[kind];
    if (scope === 'all') return 'all';
    for (const t of scope ?? []) out.add(t);
  }
  return out;
}

type VirtualServiceSpec = { readonly tcp?: readonly unknown[]; readonly tls?: readonly unknown[] };

/**
 * A VirtualService with only HTTP routes lives in route configurations (and their VHDS virtual hosts):
 * listeners carry TCP and TLS routes only. `before`/`after` are the changed resources' specs (absent when
 * created or deleted); listeners are pushed only when either has TCP or TLS routes.
 */
export function typesForVirtualServices(changed: readonly (VirtualServiceSpec | undefined)[]): Scope {
  const l4 = changed.some((spec) => (spec?.tcp?.length ?? 0) > 0 || (spec?.tls?.length ?? 0) > 0);
  return l4 ? new Set(BY_KIND['VirtualService'] as Set<string>) : new Set([TYPE.route, TYPE.virtualHost]);
}

/** The kind of a config key `Kind/namespace/name`. */
export function kindOfKey(key: string): string {
  return key.slice(0, key.indexOf('/'));
}
