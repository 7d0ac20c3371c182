/**
 * Which xDS types a config change can affect (Istio's per-type "needs push" predicates, pilot/pkg/xds/
 * cds.go, eds.go…). Kinds that feed the registry (Service, ServiceEntry, WorkloadEntry, WorkloadGroup)
 * are decided by the registry's own change event (endpoint-only or not), so they map to nothing here.
 */
import { hostsOverlap, resolveHost, type KindName, type ResourceOf } from '../../api/index.ts';
import { TYPE } from '../../xds/type-urls.ts';
import type { ConfigSnapshot } from '../config-snapshot.ts';
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

/** The versions before and after a change of the resources of `kind` among `changedKeys` (one absent when created or deleted). */
export function changedVersions<K extends KindName>(before: ConfigSnapshot, after: ConfigSnapshot, changedKeys: Iterable<string>, kind: K): ResourceOf<K>[] {
  const out: ResourceOf<K>[] = [];
  for (const key of changedKeys) {
    if (kindOfKey(key) !== kind) continue;
    for (const snap of [before, after]) {
      const r = snap.find(key);
      if (r !== undefined) out.push(r as ResourceOf<K>);
    }
  }
  return out;
}

type VirtualService = ResourceOf<'VirtualService'>;
type Destination = { readonly host?: string };
type RouteList = readonly { readonly route?: readonly { readonly destination?: Destination }[]; readonly mirror?: Destination; readonly mirrors?: readonly { readonly destination?: Destination }[] }[];

/** The hosts (resolved) a VirtualService sends traffic or mirrors to. */
function destinationsOf(vs: VirtualService): string[] {
  const out: string[] = [];
  const add = (d: Destination | undefined) => {
    if (d?.host !== undefined) out.push(resolveHost(d.host, vs.metadata.namespace));
  };
  for (const list of [vs.spec.http, vs.spec.tcp, vs.spec.tls] as (RouteList | undefined)[]) {
    for (const rule of list ?? []) {
      for (const r of rule.route ?? []) add(r.destination);
      add(rule.mirror);
      for (const m of rule.mirrors ?? []) add(m.destination);
    }
  }
  return out;
}

/**
 * The hosts whose sidecar virtual hosts a config change may alter, as host patterns (a wildcard stands
 * for every host it matches), or `all`. A virtual host is built from its service and the mesh
 * VirtualService for its host, so a VirtualService change touches the hosts it declares (before and
 * after). A DestinationRule change touches its host and the hosts of every VirtualService routing to it:
 * route fields taken from the destination's rule (consistent-hash policies) must follow it. Subsets
 * appearing or going need no rebuild: the consistency pass checks reused hosts against each push's
 * cluster set (consistency.ts). Registry kinds are left to the registry's own change event; kinds no
 * route depends on touch nothing; anything else (Sidecar,
 * Gateway, a delegate VirtualService without hosts) is `all`. Generators reuse the previous push's
 * virtual hosts for every other host.
 */
export function routeHostsForConfigChange(before: ConfigSnapshot, after: ConfigSnapshot, changedKeys: Iterable<string>): Scope {
  const out = new Set<string>();
  const changed = new Set(changedKeys);
  const versions = <K extends 'VirtualService' | 'DestinationRule'>(kind: K) => changedVersions(before, after, changed, kind);
  const hostsOf = (vs: VirtualService): readonly string[] | undefined =>
    (vs.spec.hosts ?? []).length === 0 ? undefined : vs.spec.hosts!.map((h) => resolveHost(h, vs.metadata.namespace));
  for (const key of changed) {
    const kind = kindOfKey(key);
    if (kind === 'VirtualService' || kind === 'DestinationRule' || REGISTRY_KINDS.has(kind)) continue;
    const types = typesForKinds([kind]);
    if (types === 'all' || types.size > 0) return 'all';
  }
  for (const vs of versions('VirtualService')) {
    const hosts = hostsOf(vs);
    if (hosts === undefined) return 'all';
    for (const h of hosts) out.add(h);
  }
  const ruleHosts = versions('DestinationRule').map((dr) => resolveHost(dr.spec.host, dr.metadata.namespace));
  if (ruleHosts.length > 0) {
    for (const h of ruleHosts) out.add(h);
    for (const vs of [...before.of('VirtualService'), ...after.of('VirtualService')]) {
      if (!destinationsOf(vs).some((d) => ruleHosts.some((h) => hostsOverlap(h, d)))) continue;
      const hosts = hostsOf(vs);
      if (hosts === undefined) return 'all';
      for (const h of hosts) out.add(h);
    }
  }
  return out;
}
