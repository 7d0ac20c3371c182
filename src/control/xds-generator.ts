/**
 * The control plane's `ResourceServer`: turns the current push context into each proxy's xDS, by
 * proxy kind (sidecar, gateway router, proxyless gRPC) and type. Generators are pure functions of
 * (push context, proxy); outputs shared by many proxies are memoized in the push context and encoded
 * once (encoded bytes are cached by object identity), so a push to 1,000 proxies with the same view costs
 * one generation and one encoding per resource.
 */
import type { EncodedResource, Generated, PushEvent, ResourceServer, XdsNode } from '../xds/resource-server.ts';
import { contentVersion, encodeResource, decodeResource } from '../xds/protos.ts';
import { TYPE, collectionOf, subscriptionCovers } from '../xds/type-urls.ts';
import { parseProxy, NodeError, type Proxy } from './proxy.ts';
import type { PushContext, VirtualServiceResource } from './push/push-context.ts';
import { clustersFor, outboundClusterNames, outboundClustersFor, type EnvoyCluster } from './translate/clusters.ts';
import { loadAssignment } from './translate/endpoints.ts';
import { sidecarListeners, sidecarRouteNames } from './translate/sidecar-listeners.ts';
import { outboundRouteConfig } from './translate/outbound-routes.ts';
import { gatewayListeners, gatewayRouteConfig, gatewayRouteNames } from './translate/gateway.ts';
import { grpcListeners, grpcRouteConfig } from './translate/grpc.ts';
import { withKnownClusters } from './translate/consistency.ts';
import { splitForVhds, subscribedVirtualHosts } from './translate/vhds.ts';
import { inboundProtocolsKey } from './translate/inbound-protocol.ts';
import { OUTBOUND_PORT, parseOutboundCluster } from './translate/names.ts';
import { memoized } from '../util/memo.ts';

type Named = Record<string, unknown>;

export interface GeneratorHooks {
  /** A proxy connected (after its node parsed): register its workload. */
  readonly onConnect?: (proxy: Proxy) => void;
  readonly onDisconnect?: (proxy: Proxy) => void;
  /**
   * A generated resource did not encode (a generator bug or config the translators do not handle): it is
   * left out of the push, and reported here, never thrown into the ADS stream.
   */
  readonly onError?: (proxy: Proxy, typeUrl: string, name: string, error: Error) => void;
}

const nameOf = (typeUrl: string, r: Named): string => String(typeUrl === TYPE.endpoint ? r['clusterName'] : r['name']);

/** An encoding no push used in about this many publishes is forgotten (see `#pruneEncodings`). */
const PRUNE_EVERY = 32;

interface LastEncoding {
  readonly json: string;
  readonly encoded: EncodedResource;
  used: number;
}

/** The memo key of a wildcard subscription. */
const ALL_NAMES: object = Object.freeze({});

/**
 * Per EDS Generated, where each host's assignments are in its list (by position). A list patched after
 * an endpoint change has the same names in the same places, so it shares its predecessor's index.
 */
const hostPositions = new WeakMap<Generated, ReadonlyMap<string, readonly number[]>>();

function positionsByHost(generated: Generated): ReadonlyMap<string, readonly number[]> {
  let index = hostPositions.get(generated);
  if (index === undefined) {
    const out = new Map<string, number[]>();
    generated.resources.forEach((r, i) => {
      const host = parseOutboundCluster(r.name)?.host;
      if (host === undefined) return;
      const list = out.get(host);
      if (list === undefined) out.set(host, [i]);
      else list.push(i);
    });
    hostPositions.set(generated, (index = out));
  }
  return index;
}

const signatures = new WeakMap<Proxy, { inbound: string; labels: string }>();

function signatureOf(proxy: Proxy): { inbound: string; labels: string } {
  let sig = signatures.get(proxy);
  if (sig === undefined) {
    sig = {
      inbound: JSON.stringify([proxy.ports.map((p) => [p.name ?? '', p.containerPort]), [...proxy.appPorts]]),
      labels: JSON.stringify(Object.entries(proxy.labels).sort()),
    };
    signatures.set(proxy, sig);
  }
  return sig;
}

/** What the inbound side of a sidecar depends on: its ports and the app ports they forward to. */
const inboundSignature = (proxy: Proxy): string => signatureOf(proxy).inbound;
/** Per VirtualService object (the store keeps the object of an unchanged resource): whether a route matches on `sourceLabels`. */
const sourceLabelUse = new WeakMap<object, boolean>();

const matchesSourceLabels = (vs: VirtualServiceResource): boolean => memoized(sourceLabelUse, vs, routesMatchSourceLabels);

function routesMatchSourceLabels(vs: VirtualServiceResource): boolean {
  const some = (routes: readonly { match?: readonly { sourceLabels?: unknown }[] }[] | undefined) =>
    routes?.some((r) => r.match?.some((m) => m.sourceLabels !== undefined) === true) === true;
  return some(vs.spec.http) || some(vs.spec.tcp) || some(vs.spec.tls);
}

/**
 * What of a proxy's labels its routes depend on: for gateways, which Gateways select it; for sidecars
 * and gRPC clients, the labels themselves only when some visible VirtualService matches on
 * `sourceLabels` (otherwise every proxy of the namespace shares one route configuration).
 */
function routeLabelKey(ctx: PushContext, proxy: Proxy): string {
  if (proxy.kind === 'router') return ctx.gatewaysFor(proxy).map((g) => `${g.metadata.namespace}/${g.metadata.name}`).join(',');
  const scope = ctx.sidecarScope(proxy);
  const key = `uses-source-labels|${proxy.namespace}|${scope.key}`;
  let uses = ctx.memo.get(key) as boolean | undefined;
  if (uses === undefined) {
    uses = ctx.meshVirtualServices(proxy.namespace, scope).some(matchesSourceLabels);
    ctx.memo.set(key, uses);
  }
  return uses ? signatureOf(proxy).labels : '';
}

interface KnownClusters {
  readonly set: ReadonlySet<string>;
  readonly key: string;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * `bytes` in memory of its own. Small Buffers are carved from Node's shared 64 KiB pool slabs, and an
 * encoding kept for the life of a resource would pin its whole slab: at 2,000 proxies × 1,000 services
 * ~30 MB of slabs held 3 MB of resources.
 */
function standalone(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return bytes;
  const own = Buffer.allocUnsafeSlow(bytes.byteLength);
  own.set(bytes);
  return own;
}

export class XdsGenerator implements ResourceServer<Proxy> {
  #ctx: PushContext;
  readonly #listeners = new Set<(e: PushEvent) => void>();
  readonly #proxies = new Map<string, Proxy>();
  readonly #encoded = new WeakMap<object, EncodedResource>();
  readonly #hashes = new WeakMap<EncodedResource, number>();
  /** Per `type|name`, the last encoding and the text it was made from (see `#fingerprint`). */
  readonly #lastEncoded = new Map<string, LastEncoding>();
  /** Where pruning `#lastEncoded` goes on from (a live iterator; see `#pruneEncodings`). */
  #pruneCursor: Iterator<[string, LastEncoding]> | undefined;
  #publishes = 0;
  /** Distinct known-cluster sets made so far (their keys). */
  #knownSets = 0;
  readonly #hooks: GeneratorHooks;

  constructor(initial: PushContext, hooks: GeneratorHooks = {}) {
    this.#ctx = initial;
    this.#hooks = hooks;
  }

  get context(): PushContext {
    return this.#ctx;
  }

  proxies(): readonly Proxy[] {
    return [...this.#proxies.values()];
  }

  proxy(id: string): Proxy | undefined {
    return this.#proxies.get(id);
  }

  /** Publishes a new push context and tells the ADS server what may have changed. */
  publish(ctx: PushContext, event: Omit<PushEvent, 'version'>): void {
    this.#ctx = ctx;
    this.#pruneEncodings();
    const full: PushEvent = { ...event, version: ctx.version };
    for (const l of this.#listeners) l(full);
  }

  connect(node: XdsNode): Proxy | { error: string } {
    try {
      const proxy = parseProxy(node);
      this.#proxies.set(proxy.id, proxy);
      this.#hooks.onConnect?.(proxy);
      return proxy;
    } catch (e) {
      if (e instanceof NodeError) return { error: e.message };
      throw e;
    }
  }

  disconnect(proxy: Proxy): void {
    if (this.#proxies.get(proxy.id) === proxy) this.#proxies.delete(proxy.id);
    this.#hooks.onDisconnect?.(proxy);
  }

  onPush(listener: (event: PushEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  generate(proxy: Proxy, typeUrl: string, names: readonly string[] | undefined): Generated {
    const ctx = this.#ctx;
    const view = this.#viewKey(ctx, proxy, typeUrl);
    if (view === undefined) return this.#generate(ctx, proxy, typeUrl, names);
    // Proxies with the same view and subscription (the ADS server interns equal name lists, so equal
    // subscriptions arrive as the same array) share one Generated per push context — and across contexts
    // while changes leave the type alone: a proxy connecting after an endpoint change gets the clusters
    // and routes the others hold, without generating them again.
    const memoKey = `generated|${typeUrl}|${view}`;
    let byNames = (ctx.memo.get(memoKey) ?? ctx.carriedOver(memoKey, typeUrl)) as WeakMap<object, Generated> | undefined;
    if (byNames === undefined) ctx.memo.set(memoKey, (byNames = new WeakMap()));
    const namesKey: object = names ?? ALL_NAMES;
    let generated = byNames.get(namesKey);
    if (generated === undefined) {
      generated = (typeUrl === TYPE.endpoint ? this.#patchedEndpoints(ctx, proxy, memoKey, namesKey) : undefined)
        ?? this.#generate(ctx, proxy, typeUrl, names);
      byNames.set(namesKey, generated);
    }
    return generated;
  }

  /**
   * EDS after an endpoint-only change: the previous context's list for this view and subscription with
   * only the changed hosts' assignments made again, instead of looking up thousands of unchanged ones.
   * It holds for the reason `previousFor` does: such a change leaves the clusters, and every other
   * host's endpoints, as they were. Undefined when it does not apply (then the list is generated).
   */
  #patchedEndpoints(ctx: PushContext, proxy: Proxy, memoKey: string, namesKey: object): Generated | undefined {
    const hosts = ctx.changedHosts;
    if (hosts === 'all' || ctx.mayChange(TYPE.cluster)) return undefined;
    const previous = (ctx.previousMemo(memoKey) as WeakMap<object, Generated> | undefined)?.get(namesKey);
    if (previous === undefined) return undefined;
    const positions = positionsByHost(previous);
    let resources: EncodedResource[] | undefined;
    for (const host of hosts) {
      for (const i of positions.get(host) ?? []) {
        resources ??= previous.resources.slice();
        try {
          resources[i] = this.#encode(TYPE.endpoint, loadAssignment(ctx, resources[i]!.name, proxy.namespace));
        } catch {
          return undefined; // generated in full, which reports the error
        }
      }
    }
    if (resources === undefined) return previous;
    const next: Generated = { version: this.#setVersion(resources), resources };
    hostPositions.set(next, positions);
    return next;
  }

  /**
   * What a type's output depends on besides the push context and the subscription, or undefined when
   * it is per proxy (sidecar and gateway listeners carry the proxy's address).
   */
  #viewKey(ctx: PushContext, proxy: Proxy, typeUrl: string): string | undefined {
    // Asked for once per type and push; cached in the context so that it dies with it.
    const viewKeys = ctx.perProxy<Map<string, string | undefined>>('view-keys');
    let keys = viewKeys.get(proxy);
    if (keys === undefined) viewKeys.set(proxy, (keys = new Map()));
    if (keys.has(typeUrl)) return keys.get(typeUrl);
    const key = this.#computeViewKey(ctx, proxy, typeUrl);
    keys.set(typeUrl, key);
    return key;
  }

  #computeViewKey(ctx: PushContext, proxy: Proxy, typeUrl: string): string | undefined {
    const scope = ctx.sidecarScope(proxy).key;
    switch (typeUrl) {
      case TYPE.cluster: return `${proxy.kind}|${proxy.namespace}|${scope}|${proxy.kind === 'sidecar' ? `${inboundSignature(proxy)}|${inboundProtocolsKey(ctx, proxy)}` : ''}`;
      // Named EDS depends only on the namespace (DestinationRule precedence); wildcard EDS on the cluster list.
      case TYPE.endpoint: return `${proxy.kind}|${proxy.namespace}|${scope}`;
      case TYPE.route:
      case TYPE.virtualHost: return `${proxy.kind}|${proxy.vhds}|${proxy.namespace}|${scope}|${routeLabelKey(ctx, proxy)}`;
      case TYPE.listener: return proxy.kind === 'grpc' ? `grpc|${proxy.namespace}|${scope}` : undefined;
      default: return undefined;
    }
  }

  #generate(ctx: PushContext, proxy: Proxy, typeUrl: string, names: readonly string[] | undefined): Generated {
    const objects = this.objects(ctx, proxy, typeUrl, names);
    const wanted = names === undefined ? undefined : new Set(names);
    const resources: EncodedResource[] = [];
    for (const o of objects) {
      const name = nameOf(typeUrl, o);
      if (wanted !== undefined && !subscriptionCovers(typeUrl, wanted, name)) continue;
      try {
        resources.push(this.#encode(typeUrl, o));
      } catch (e) {
        this.#hooks.onError?.(proxy, typeUrl, nameOf(typeUrl, o), e as Error);
      }
    }
    return { version: this.#setVersion(resources), resources };
  }

  /** The plain objects of one type for a proxy (before name filtering and encoding). */
  objects(ctx: PushContext, proxy: Proxy, typeUrl: string, names: readonly string[] | undefined): readonly Named[] {
    switch (typeUrl) {
      case TYPE.cluster: return this.#clusters(ctx, proxy, names);
      case TYPE.endpoint: return (names ?? this.#clusters(ctx, proxy, undefined).filter((c) => c['type'] === 'EDS').map((c) => c.name))
        .map((n) => loadAssignment(ctx, n, proxy.namespace));
      case TYPE.listener: return this.#listenersOf(ctx, proxy, names);
      case TYPE.route: return this.#routes(ctx, proxy, names);
      case TYPE.virtualHost: return this.#virtualHosts(ctx, proxy, names);
      default: return [];
    }
  }

  /** Every resource this proxy would get now, decoded back from what is sent (for /debug/config_dump). */
  configDump(proxy: Proxy): Record<string, unknown[]> {
    const dump: Record<string, unknown[]> = {};
    const listeners = this.generate(proxy, TYPE.listener, undefined).resources;
    const clusters = this.generate(proxy, TYPE.cluster, undefined).resources;
    const routeNames = proxy.kind === 'router' ? gatewayRouteNames(this.#ctx, proxy)
      : proxy.kind === 'sidecar' ? sidecarRouteNames(this.#ctx, proxy) : listeners.map((l) => l.name);
    const eds = clusters.map((c) => c.name).filter((n) => n.startsWith('outbound|'));
    const parts: [string, string, readonly EncodedResource[]][] = [
      ['listeners', TYPE.listener, listeners],
      ['routes', TYPE.route, this.generate(proxy, TYPE.route, routeNames).resources],
      ...(proxy.vhds ? [['virtualHosts', TYPE.virtualHost, this.generate(proxy, TYPE.virtualHost, routeNames).resources] as [string, string, readonly EncodedResource[]]] : []),
      ['clusters', TYPE.cluster, clusters],
      ['endpoints', TYPE.endpoint, this.generate(proxy, TYPE.endpoint, eds).resources],
    ];
    for (const [key, type, list] of parts) dump[key] = list.map((r) => ({ name: r.name, version: r.version, resource: decodeResource(type, r.body) }));
    return dump;
  }

  #clusters(ctx: PushContext, proxy: Proxy, names: readonly string[] | undefined): EnvoyCluster[] {
    if (proxy.kind === 'grpc') {
      const all = outboundClustersFor(ctx, proxy);
      return names === undefined ? all : all.filter((c) => names.includes(c.name));
    }
    return clustersFor(ctx, proxy);
  }

  #listenersOf(ctx: PushContext, proxy: Proxy, names: readonly string[] | undefined): Named[] {
    if (proxy.kind === 'grpc') return grpcListeners(ctx, proxy, names);
    if (proxy.kind === 'router') return gatewayListeners(ctx, proxy);
    return sidecarListeners(ctx, proxy);
  }

  #routes(ctx: PushContext, proxy: Proxy, names: readonly string[] | undefined): Named[] {
    const requested = names ?? (proxy.kind === 'router' ? gatewayRouteNames(ctx, proxy) : proxy.kind === 'sidecar' ? sidecarRouteNames(ctx, proxy) : []);
    const out: Named[] = [];
    for (const name of requested) {
      const config = this.#routeConfig(ctx, proxy, name);
      if (config !== undefined) out.push(proxy.vhds && proxy.kind === 'sidecar' ? splitForVhds(config).config : config);
    }
    return out;
  }

  /** A sidecar's VHDS virtual hosts: those of its route configurations the subscription names. */
  #virtualHosts(ctx: PushContext, proxy: Proxy, names: readonly string[] | undefined): Named[] {
    if (proxy.kind !== 'sidecar' || !proxy.vhds) return [];
    const out: Named[] = [];
    for (const routeName of sidecarRouteNames(ctx, proxy)) {
      if (names !== undefined && !names.some((n) => n === routeName || collectionOf(n) === routeName)) continue;
      const config = this.#routeConfig(ctx, proxy, routeName);
      if (config !== undefined) out.push(...subscribedVirtualHosts(config, names));
    }
    return out;
  }

  /** Route configuration `name` for a proxy, after the consistency pass (memoized per known-cluster set). */
  #routeConfig(ctx: PushContext, proxy: Proxy, name: string): (Named & { name: string }) | undefined {
    const config = proxy.kind === 'grpc' ? grpcRouteConfig(ctx, proxy, name)
      : proxy.kind === 'router' ? (name.startsWith('http.') ? gatewayRouteConfig(ctx, proxy, name) : undefined)
        : /^\d+$/.test(name) ? outboundRouteConfig(ctx, proxy, Number(name) || OUTBOUND_PORT) : undefined;
    if (config === undefined) return undefined;
    const known = this.#knownClusters(ctx, proxy, `${proxy.namespace}|${ctx.sidecarScope(proxy).key}`);
    return withKnownClusters(config, known.set, known.key);
  }

  /**
   * The clusters a proxy is sent, and a key naming their content: the previous push's when the change
   * cannot have touched CDS or the set came out equal, so consistency checks made against it still hold.
   */
  #knownClusters(ctx: PushContext, proxy: Proxy, key: string): KnownClusters {
    const memoKey = `known-clusters|${key}`;
    const hit = (ctx.memo.get(memoKey) ?? ctx.carriedOver(memoKey, TYPE.cluster)) as KnownClusters | undefined;
    if (hit !== undefined) return hit;
    const previous = ctx.previousMemo(memoKey) as KnownClusters | undefined;
    const set = new Set(['PassthroughCluster', 'BlackHoleCluster', ...outboundClusterNames(ctx, proxy)]);
    const known = previous !== undefined && sameSet(previous.set, set) ? previous : { set, key: `known-${++this.#knownSets}` };
    ctx.memo.set(memoKey, known);
    return known;
  }

  /**
   * The version of a set of resources: an order-sensitive combination of per-resource 32-bit hashes
   * (name and content), computed once per encoded resource. A push to 1,000 proxies with 1,000 clusters
   * each then costs integer mixing, not hashing megabytes of version strings.
   */
  #setVersion(resources: readonly EncodedResource[]): string {
    let a = 0x811c9dc5;
    let b = resources.length;
    for (const r of resources) {
      const h = this.#hashes.get(r) ?? this.#hashOf(r);
      a = Math.imul(a ^ h, 0x01000193);
      b = Math.imul(b + h, 0x5bd1e995) ^ (b >>> 13);
    }
    return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
  }

  #hashOf(r: EncodedResource): number {
    let h = Number.parseInt(r.version.slice(0, 8), 16) | 0;
    for (let i = 0; i < r.name.length; i++) h = Math.imul(h ^ r.name.charCodeAt(i), 0x01000193);
    this.#hashes.set(r, h);
    return h;
  }

  #encode(typeUrl: string, o: Named): EncodedResource {
    const hit = this.#encoded.get(o);
    if (hit !== undefined) return hit;
    const name = nameOf(typeUrl, o);
    const json = this.#fingerprint(typeUrl, o);
    const key = `${typeUrl}|${name}`;
    const last = json === undefined ? undefined : this.#lastEncoded.get(key);
    let encoded: EncodedResource;
    if (last !== undefined && last.json === json) {
      encoded = last.encoded;
      last.used = this.#publishes;
    } else {
      const body = standalone(encodeResource(typeUrl, o));
      encoded = { name, version: contentVersion(body), body };
      if (json !== undefined) this.#lastEncoded.set(key, { json, encoded, used: this.#publishes });
    }
    this.#encoded.set(o, encoded);
    return encoded;
  }

  /**
   * The JSON text of a resource shared by many proxies (not listeners, which carry each proxy's own
   * address): a new push context builds new objects, and most are equal to the last ones of the same
   * name; comparing their text costs a few microseconds where encoding costs a hundred, and keeps the
   * encoded bytes (and everything cached on them) the same objects from push to push.
   */
  #fingerprint(typeUrl: string, o: Named): string | undefined {
    if (typeUrl === TYPE.listener) return undefined;
    try {
      return JSON.stringify(o);
    } catch {
      return undefined;
    }
  }

  /**
   * Drops remembered encodings no push used lately (resources that are gone), a slice on every publish:
   * each entry is looked at about once every PRUNE_EVERY publishes, and no single push pays for a
   * scan of them all (~10,000 at 1,000 services: a few milliseconds).
   */
  #pruneEncodings(): void {
    const stale = ++this.#publishes - PRUNE_EVERY;
    for (let n = Math.ceil(this.#lastEncoded.size / PRUNE_EVERY); n > 0; n--) {
      this.#pruneCursor ??= this.#lastEncoded.entries();
      const next = this.#pruneCursor.next();
      if (next.done === true) {
        this.#pruneCursor = undefined;
        return;
      }
      if (next.value[1].used < stale) this.#lastEncoded.delete(next.value[0]);
    }
  }
}
