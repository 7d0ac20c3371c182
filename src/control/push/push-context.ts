/**
 * The push context: one immutable, internally consistent view of config + registry from which every
 * proxy's xDS is generated (Istio's PushContext, go-control-plane's snapshot). It indexes what the
 * generators ask for — visible services, the VirtualServices of the mesh and of each gateway, the
 * DestinationRule for a host, the Sidecar scope of a proxy — and memoizes generator output shared by
 * many proxies. A new context is built for every change and published atomically; nothing mutates one.
 */
import { gatewayRef, hostMatches, hostsOverlap, resolveHost, selects, visibleFrom, type ResourceOf } from '../../api/index.ts';
import type { ConfigSnapshot } from '../config-snapshot.ts';
import type { RegistrySnapshot, Service } from '../../registry/model.ts';
import type { Proxy } from '../proxy.ts';
import { scopeFrom, inScope, type SidecarScope } from './sidecar-scope.ts';

export type VirtualServiceResource = ResourceOf<'VirtualService'>;
export type DestinationRuleResource = ResourceOf<'DestinationRule'>;
export type GatewayResource = ResourceOf<'Gateway'>;

export interface MeshSettings {
  /** Mesh-wide policies (PeerAuthentication, Sidecar defaults) live here, as in Istio. */
  readonly rootNamespace: string;
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

export const DEFAULT_MESH: MeshSettings = { rootNamespace: 'istio-system', outboundTrafficPolicy: 'ALLOW_ANY' };

export interface Reuse {
  readonly previous: PushContext;
  /** Hostnames whose services or endpoints changed; `all` disables reuse of per-host EDS. */
  readonly changedHosts: ReadonlySet<string> | 'all';
  /** Host patterns whose sidecar virtual hosts may have changed; `all` (the default) disables their reuse. */
  readonly routeHosts?: ReadonlySet<string> | 'all';
  /** xDS types the change may affect; results that depend only on the others' inputs carry over (default `all`). */
  readonly types?: ReadonlySet<string> | 'all';
}

/** When a memoized result still holds in the next context: its host's endpoints, or its host's routes, did not change; or nothing of its xDS type did. */
type CarryRule = { readonly host: string; readonly routes: boolean } | { readonly type: string };

/** Contexts a result is carried through without being asked for before it is let go. */
export const MAX_CARRY_AGE = 32;

const byAge = <T extends { metadata: { creationTimestamp?: string; namespace: string; name: string } }>(a: T, b: T) =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
  a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name);



interface DestinationRuleIndex {
  readonly exact: Map<string, DestinationRuleResource>;
  readonly wildcards: { readonly host: string; readonly rule: DestinationRuleResource }[];
}

export class PushContext {
  readonly version: string;
  readonly config: ConfigSnapshot;
  readonly registry: RegistrySnapshot;
  readonly mesh: MeshSettings;
  /** Generator outputs shared by proxies with the same inputs, keyed by the generator. */
  readonly memo = new Map<string, unknown>();
  readonly #virtualServices: readonly VirtualServiceResource[];
  readonly #scopes = new Map<string, SidecarScope>();
  #reuse: Reuse | undefined;
  /** Per memoized result a later context may take over, when it still holds (see `#carried`). */
  readonly #rules = new Map<string, CarryRule>();
  /** Per result taken over from an earlier context without being asked for since: how many contexts ago it was last asked for. */
  readonly #ages = new Map<string, number>();

  /**
   * `reuse` names the previous context and the hosts that changed since: generators may take per-host
   * results (EDS) for unchanged hosts from it, so their encodings are reused too. Only valid when the
   * config is the same apart from those hosts (the control plane passes `all` otherwise).
   */
  constructor(version: string, config: ConfigSnapshot, registry: RegistrySnapshot, mesh: MeshSettings = DEFAULT_MESH, reuse?: Reuse) {
    this.version = version;
    this.config = config;
    this.registry = registry;
    this.mesh = mesh;
    this.#virtualServices = [...config.of('VirtualService')].sort(byAge);
    this.#reuse = reuse;
  }

  /**
   * A memoized result of the previous context for `key`, when it concerns `host` and that host did not
   * change; undefined otherwise.
   */
  previousFor(key: string, host: string): unknown {
    return this.#carried(key, { host, routes: false });
  }

  /**
   * A memoized result of the previous context for `key`, when it is a virtual host of `host` and no
   * changed route host matches `host` (the config is otherwise the same); undefined otherwise.
   */
  previousRouteFor(key: string, host: string): unknown {
    return this.#carried(key, { host, routes: true });
  }

  /**
   * The previous context's memoized result for `key` when the change since cannot have affected xDS
   * type `typeUrl`, whose output it is (so it still holds, and keeps its identity: the encodings cached
   * on its objects are reused); undefined otherwise.
   */
  carriedOver(key: string, typeUrl: string): unknown {
    return this.#carried(key, { type: typeUrl });
  }

  /** The previous context's memoized result for `key` (undefined without a previous context): callers decide whether it still holds. */
  previousMemo(key: string): unknown {
    return this.#reuse?.previous.memo.get(key);
  }

  /** Hostnames whose services or endpoints changed since the previous context (`all` without one, or when unknown). */
  get changedHosts(): ReadonlySet<string> | 'all' {
    return this.#reuse?.changedHosts ?? 'all';
  }

  /** Whether the change since the previous context may have affected xDS type `typeUrl` (true without a previous context). */
  mayChange(typeUrl: string): boolean {
    const types = this.#reuse?.types ?? 'all';
    return types === 'all' || types.has(typeUrl);
  }

  /**
   * The previous context's result for `key` if `rule` says it still holds, memoized in this one too (so
   * callers need not); the rule is kept, for the next context to ask.
   */
  #carried(key: string, rule: CarryRule): unknown {
    this.#rules.set(key, rule);
    const r = this.#reuse;
    const value = r !== undefined && this.#holds(rule) ? r.previous.memo.get(key) : undefined;
    if (value !== undefined) this.memo.set(key, value);
    return value;
  }

  /** Whether a result that held in the previous context still holds in this one. */
  #holds(rule: CarryRule): boolean {
    const r = this.#reuse;
    if (r === undefined) return false;
    if ('type' in rule) return !this.mayChange(rule.type);
    const changed = rule.routes ? r.routeHosts ?? 'all' : r.changedHosts;
    if (changed === 'all') return false;
    if (!rule.routes) return !changed.has(rule.host);
    for (const pattern of changed) if (hostsOverlap(pattern, rule.host)) return false;
    return true;
  }

  /**
   * A cache of per-proxy results that lives and dies with this context. Per-proxy caches must live here:
   * one beside the context (module level, or in the generator) that remembers which context it is for
   * keeps each proxy's last context, and all it memoized, alive after newer ones replaced it.
   */
  perProxy<T>(key: string): WeakMap<Proxy, T> {
    let cache = this.memo.get(key) as WeakMap<Proxy, T> | undefined;
    if (cache === undefined) this.memo.set(key, (cache = new WeakMap()));
    return cache;
  }

  /**
   * Takes over what this context carries and drops the link to the previous one, so contexts do not
   * chain. Called once its push is out, or at the latest when the next context is built (then it does
   * nothing). Results generated here later, for a proxy that connects afterwards, are made in full rather
   * than patched from the previous context's.
   */
  releasePrevious(): void {
    this.#inherit();
    this.#reuse = undefined;
  }

  /**
   * Takes over the previous context's carried results that this one did not compute but that still
   * hold here: a result is otherwise lost as soon as one context goes by without asking for it (an
   * endpoint push builds no routes), and the next context that does ask builds it anew, with new
   * objects whose encodings must be made or matched again. A result nobody asked for in MAX_CARRY_AGE
   * contexts is let go (one keyed by proxies' labels may belong to proxies long gone).
   */
  #inherit(): void {
    const r = this.#reuse;
    if (r === undefined) return;
    const previous = r.previous;
    for (const [key, rule] of previous.#rules) {
      const age = (previous.#ages.get(key) ?? 0) + 1;
      if (age > MAX_CARRY_AGE || this.#rules.has(key) || !this.#holds(rule)) continue;
      const value = previous.memo.get(key);
      if (value === undefined) continue;
      this.memo.set(key, value);
      this.#rules.set(key, rule);
      this.#ages.set(key, age);
    }
  }

  /** The Sidecar scope of a proxy: the Sidecar selecting it, else its namespace's, else the root's. */
  sidecarScope(proxy: Proxy): SidecarScope {
    const sidecars = this.config.of('Sidecar');
    if (sidecars.length === 0) return this.#scope('default', undefined); // the common case, asked per proxy and type on every push
    const own = sidecars.filter((s) => s.metadata.namespace === proxy.namespace);
    const chosen = own.find((s) => s.spec.workloadSelector?.labels !== undefined && selects(s.spec.workloadSelector.labels, proxy.labels))
      ?? own.find((s) => s.spec.workloadSelector === undefined)
      ?? sidecars.find((s) => s.metadata.namespace === this.mesh.rootNamespace && s.spec.workloadSelector === undefined);
    return this.#scope(chosen === undefined ? 'default' : `${chosen.metadata.namespace}/${chosen.metadata.name}`, chosen);
  }

  #scope(key: string, sidecar: ResourceOf<'Sidecar'> | undefined): SidecarScope {
    let scope = this.#scopes.get(key);
    if (scope === undefined) {
      scope = scopeFrom(sidecar, this.mesh.outboundTrafficPolicy);
      this.#scopes.set(key, scope);
    }
    return scope;
  }

  /** Services a proxy in `namespace` may reach: exported to it and within its Sidecar scope. */
  visibleServices(namespace: string, scope: SidecarScope): readonly Service[] {
    const key = `services|${namespace}|${scope.key}`;
    let out = this.memo.get(key) as Service[] | undefined;
    if (out === undefined) {
      out = this.registry.services.filter((s) => visibleFrom(s.exportTo, s.namespace, namespace) && inScope(scope, s.namespace, s.hostname));
      this.memo.set(key, out);
    }
    return out;
  }

  /** The service for a destination host as seen from `namespace` (same-namespace declaration first). */
  service(host: string, namespace: string): Service | undefined {
    const fqdn = resolveHost(host, namespace);
    const candidates = this.registry.servicesByHost(fqdn).filter((s) => visibleFrom(s.exportTo, s.namespace, namespace));
    if (candidates.length > 0) return candidates.find((s) => s.namespace === namespace) ?? candidates[0];
    return this.registry.services.find((s) => s.hostname.startsWith('*') && hostMatches(s.hostname, fqdn) && visibleFrom(s.exportTo, s.namespace, namespace));
  }

  /**
   * The DestinationRule for `host` as seen by a proxy in `proxyNamespace` (Istio's precedence: the
   * proxy's namespace, then the service's, then the root namespace; exact host before wildcards).
   */
  destinationRule(host: string, proxyNamespace: string, serviceNamespace: string): DestinationRuleResource | undefined {
    for (const ns of [proxyNamespace, serviceNamespace, this.mesh.rootNamespace]) {
      const index = this.#destinationRules(ns, proxyNamespace);
      const exact = index.exact.get(host);
      if (exact !== undefined) return exact;
      const wild = index.wildcards.find((w) => hostMatches(w.host, host));
      if (wild !== undefined) return wild.rule;
    }
    return undefined;
  }

  /**
   * DestinationRules of namespace `ns` (without workload selector) visible from `proxyNamespace`, by
   * resolved host: exact hosts first come first, wildcards longest first. Built once per push context,
   * so a lookup costs a map access instead of a scan of every rule.
   */
  #destinationRules(ns: string, proxyNamespace: string): DestinationRuleIndex {
    const key = `dr-index|${ns}|${proxyNamespace}`;
    let index = this.memo.get(key) as DestinationRuleIndex | undefined;
    if (index === undefined) {
      index = { exact: new Map(), wildcards: [] };
      for (const r of this.config.of('DestinationRule')) {
        if (r.metadata.namespace !== ns || r.spec.workloadSelector !== undefined || !visibleFrom(r.spec.exportTo, ns, proxyNamespace)) continue;
        const resolved = resolveHost(r.spec.host, ns);
        if (resolved.includes('*')) index.wildcards.push({ host: resolved, rule: r });
        else if (!index.exact.has(resolved)) index.exact.set(resolved, r);
      }
      index.wildcards.sort((a, b) => b.rule.spec.host.length - a.rule.spec.host.length);
      this.memo.set(key, index);
    }
    return index;
  }

  /** VirtualServices bound to the mesh (no `gateways`, or `mesh` listed), visible from `namespace`, in scope. */
  meshVirtualServices(namespace: string, scope: SidecarScope): readonly VirtualServiceResource[] {
    const key = `mesh-vs|${namespace}|${scope.key}`;
    let out = this.memo.get(key) as VirtualServiceResource[] | undefined;
    if (out === undefined) {
      out = this.#virtualServices.filter((vs) => {
        const gws = vs.spec.gateways ?? [];
        if (gws.length > 0 && !gws.includes('mesh')) return false;
        if (!visibleFrom(vs.spec.exportTo, vs.metadata.namespace, namespace)) return false;
        return (vs.spec.hosts ?? []).some((h) => inScope(scope, vs.metadata.namespace, resolveHost(h, vs.metadata.namespace)));
      });
      this.memo.set(key, out);
    }
    return out;
  }

  /** VirtualServices bound to gateway `gw` (`namespace/name`) at the VirtualService or match level. */
  gatewayVirtualServices(gw: string): readonly VirtualServiceResource[] {
    return this.#virtualServices.filter((vs) => {
      const ns = vs.metadata.namespace;
      if ((vs.spec.hosts ?? []).length === 0) return false;
      if ((vs.spec.gateways ?? []).some((g) => gatewayRef(g, ns) === gw)) return true;
      const bound = (m: { gateways?: readonly string[] | undefined }) => (m.gateways ?? []).some((g) => gatewayRef(g, ns) === gw);
      return [...(vs.spec.http ?? []), ...(vs.spec.tcp ?? []), ...(vs.spec.tls ?? [])].some((r) => (r.match ?? []).some(bound));
    });
  }

  /** Gateways whose selector matches a gateway proxy's labels. */
  gatewaysFor(proxy: Proxy): readonly GatewayResource[] {
    return [...this.config.of('Gateway')].filter((g) => g.spec.selector !== undefined && Object.keys(g.spec.selector).length > 0 && selects(g.spec.selector, proxy.labels)).sort(byAge);
  }

  delegate(name: string, namespace: string): VirtualServiceResource | undefined {
    return this.#virtualServices.find((vs) => vs.metadata.name === name && vs.metadata.namespace === namespace && (vs.spec.hosts ?? []).length === 0);
  }
}
