/**
 * `weft control`, wired: config store (watched directories + applied config) → registry (services,
 * workloads, proxies) → debounced push context → xDS generator → ADS server, plus the HTTP API
 * (apply/get/delete, /debug/*, /metrics, /ready). Life of a push: a change (config event, proxy joining
 * or leaving) enters the debouncer; after a quiet period a new immutable PushContext is built and
 * published; the ADS server regenerates the affected types for every stream and sends what changed —
 * EDS alone when only endpoints changed.
 */
import { hostname } from 'node:os';
import { ConfigStore } from './config/index.ts';
import { Registry } from '../registry/index.ts';
import { AdsServer, type AdsObserver } from './ads/index.ts';
import { startHttpApi, type HttpApi } from './http/index.ts';
import { XdsGenerator } from './xds-generator.ts';
import { PushContext, DEFAULT_MESH, type MeshSettings } from './push/push-context.ts';
import { Debouncer, type Change, type MergedChange, type Scope } from './push/debouncer.ts';
import { changedVersions, feedsRegistry, kindOfKey, routeHostsForConfigChange, typesForKinds, typesForVirtualServices } from './push/change-scope.ts';
import type { ConfigSnapshot } from './config-snapshot.ts';
import { ControlMetrics } from './metrics.ts';
import { IdleCollector } from './idle-gc.ts';
import { workloadOf, type Proxy } from './proxy.ts';
import { TYPE, SHORT } from '../xds/type-urls.ts';
import { preloadProtos } from '../xds/protos.ts';

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface ControlPlaneOptions {
  readonly configDirs?: readonly string[];
  readonly stateDir?: string;
  /** gRPC xDS address (default 127.0.0.1:15010; port 0 picks one). */
  readonly xds?: Address;
  /** HTTP API address (default 127.0.0.1:15014; port 0 picks one). */
  readonly http?: Address;
  readonly debounceMs?: number;
  /** How long a disconnected proxy's endpoints stay (default 2000 ms), so a reconnect does not flap EDS. */
  readonly removalGraceMs?: number;
  readonly mesh?: MeshSettings;
  readonly log?: (line: string) => void;
}

/** The xDS types a config change may affect: by kind, refined by content for VirtualServices. */
function configChangeTypes(before: ConfigSnapshot, after: ConfigSnapshot, changedKeys: Iterable<string>): Scope {
  const keys = [...changedKeys];
  const others = typesForKinds(new Set(keys.map(kindOfKey).filter((k) => k !== 'VirtualService')));
  const vsKeys = new Set(keys.filter((k) => kindOfKey(k) === 'VirtualService'));
  if (others === 'all' || vsKeys.size === 0) return others;
  const specs = changedVersions(before, after, vsKeys, 'VirtualService').map((vs) => vs.spec);
  const vs = typesForVirtualServices(specs);
  return vs === 'all' ? vs : new Set([...others, ...vs]);
}

/** The observer, telling `idle` of every push, response and ACK (the control plane is not quiet then). */
function quietWatch(observer: AdsObserver, idle: IdleCollector): AdsObserver {
  if (!idle.enabled) return observer;
  return {
    ...observer,
    pushSent: (i) => { idle.touch(); observer.pushSent?.(i); },
    pushDone: (i) => { idle.touch(); observer.pushDone?.(i); },
    ack: (i) => { idle.touch(); observer.ack?.(i); },
    nack: (i) => { idle.touch(); observer.nack?.(i); },
  };
}

export class ControlPlane {
  readonly store: ConfigStore;
  readonly registry: Registry;
  readonly generator: XdsGenerator;
  readonly ads: AdsServer<Proxy>;
  readonly metrics: ControlMetrics;
  readonly xdsPort: number;
  readonly http: HttpApi;
  readonly #debouncer: Debouncer;
  readonly #unsubscribe: (() => void)[];

  private constructor(parts: {
    store: ConfigStore; registry: Registry; generator: XdsGenerator; ads: AdsServer<Proxy>; metrics: ControlMetrics;
    xdsPort: number; http: HttpApi; debouncer: Debouncer; unsubscribe: (() => void)[];
  }) {
    this.store = parts.store;
    this.registry = parts.registry;
    this.generator = parts.generator;
    this.ads = parts.ads;
    this.metrics = parts.metrics;
    this.xdsPort = parts.xdsPort;
    this.http = parts.http;
    this.#debouncer = parts.debouncer;
    this.#unsubscribe = parts.unsubscribe;
  }

  static async start(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const mesh = opts.mesh ?? DEFAULT_MESH;
    // Every type a push may encode, loaded before the first proxy connects (not on its first push).
    preloadProtos();
    const metrics = new ControlMetrics();
    const store = await ConfigStore.open({ configDirs: opts.configDirs ?? [], stateDir: opts.stateDir ?? '.weft', log });
    const registry = new Registry({ removalGraceMs: opts.removalGraceMs ?? 2000, log });
    registry.setConfig(store.snapshot());
    let version = 1;
    let current: PushContext | undefined;
    /** A new push context; when only some hosts changed it may reuse the previous one's untouched EDS and virtual hosts. */
    const context = (hosts: Scope = 'all', routeHosts: Scope = 'all', types: Scope = 'all') => {
      const next = new PushContext(String(version++), store.snapshot(), registry.snapshot(), mesh,
        current === undefined ? undefined : { previous: current, changedHosts: hosts, routeHosts, types });
      current?.releasePrevious();
      current = next;
      return next;
    };
    const generator = new XdsGenerator(context(), {
      onConnect: (p) => {
        const w = workloadOf(p);
        if (w !== undefined && p.kind !== 'grpc') registry.addProxy({ ...w, proxyId: p.id });
      },
      onDisconnect: (p) => registry.removeProxy(p.id),
      onError: (p, type, name, e) => {
        metrics.pushErrors.inc({ type: SHORT[type] ?? type });
        log(`cannot generate ${SHORT[type] ?? type} ${name} for ${p.id}: ${e.message}`);
      },
    });
    const idle = new IdleCollector({ collected: (c) => metrics.idleCollections.observe(c.ms / 1000) });
    const flush = (b: MergedChange) => {
      idle.touch();
      const endpointsOnly = b.types !== 'all' && b.types.size === 1 && b.types.has(TYPE.endpoint);
      metrics.triggers.inc({ type: endpointsOnly ? 'endpoint' : 'config' });
      if (b.types !== 'all' && b.types.size === 0) return;
      generator.publish(context(b.hosts, b.routeHosts, b.types), { ...(b.types === 'all' ? {} : { types: b.types }), reason: [...b.reasons].join(','), changedAt: b.at });
    };
    const debouncer = new Debouncer(opts.debounceMs ?? 100, flush);
    /** Set once the ADS server exists: requests wait for the push a change is to cause (`AdsServer.expectPush`). */
    let pushComing = (): void => {};
    const changed = (c: Change): void => {
      debouncer.add(c);
      pushComing();
    };
    let previous = store.snapshot();
    const unsubscribe = [
      store.onChange((snap, changedKeys) => {
        const at = performance.now();
        // Registry kinds report through the registry's own change event (endpoint-only or not); other
        // kinds leave the registry as it is, which spares rebuilding every service on a routing change.
        if (feedsRegistry([...changedKeys].map(kindOfKey))) registry.setConfig(snap, changedKeys);
        const types = configChangeTypes(previous, snap, changedKeys);
        const routeHosts = types === 'all' ? 'all' : routeHostsForConfigChange(previous, snap, changedKeys);
        previous = snap;
        if (types === 'all' || types.size > 0) {
          changed({ types, hosts: types === 'all' || types.has(TYPE.endpoint) ? 'all' : new Set(), routeHosts, reason: 'config', at });
        }
      }),
      registry.onChange((snap, change) => {
        // DNS clusters carry their endpoints inline in CDS, so their endpoint changes need a full push.
        const dns = change.endpointsOnly && [...change.hosts].some((h) => snap.servicesByHost(h).some((s) => s.resolution === 'DNS' || s.resolution === 'DNS_ROUND_ROBIN'));
        const endpointsOnly = change.endpointsOnly && !dns;
        // A workload no service selects (a client-only sidecar joining) changes no proxy's config.
        if (endpointsOnly && change.hosts.size === 0) return;
        changed({
          types: endpointsOnly ? new Set([TYPE.endpoint]) : 'all', hosts: endpointsOnly ? change.hosts : 'all',
          routeHosts: endpointsOnly ? new Set() : 'all', reason: change.reason, at: performance.now(),
        });
      }),
    ];
    unsubscribe.push(() => idle.close());
    const observer = quietWatch(metrics.observer(log), idle);
    const ads = new AdsServer<Proxy>({
      resources: generator,
      observer: {
        ...observer,
        // Once a push is out, the context takes over what it carries from the previous one now, rather
        // than when the next change builds its successor (in that change's time to converge).
        pushDone: (i) => {
          observer.pushDone?.(i);
          current?.releasePrevious();
        },
      },
      controlPlaneId: `weft-control@${hostname()}`,
    });
    pushComing = () => ads.expectPush();
    const xdsAddr = opts.xds ?? { host: '127.0.0.1', port: 15010 };
    const xdsPort = await ads.start(xdsAddr);
    let ready = false;
    const http = await startHttpApi({
      ...(opts.http ?? { host: '127.0.0.1', port: 15014 }),
      config: store,
      registry: () => registry.snapshot(),
      ready: () => ready,
      metrics: metrics.registry,
      syncz: () => ads.status().map((st) => {
        const p = generator.proxy(st.proxyId);
        return { ...st, proxyType: p?.kind ?? 'unknown', namespace: p?.namespace, ip: p?.ip };
      }),
      configDump: (id) => {
        const p = generator.proxy(id);
        return p === undefined ? undefined : { proxy: { id: p.id, kind: p.kind, namespace: p.namespace, ip: p.ip }, ...generator.configDump(p) };
      },
      log,
    });
    ready = true;
    log(`weft control: xDS on ${xdsAddr.host}:${xdsPort}, HTTP API on ${http.url}, ${store.snapshot().resources.length} resources in force`);
    return new ControlPlane({ store, registry, generator, ads, metrics, xdsPort, http, debouncer, unsubscribe });
  }

  /** Pushes pending changes now (tests; shutdown). */
  flush(): void {
    this.#debouncer.flushNow();
  }

  async stop(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#debouncer.close();
    await this.ads.stop();
    await new Promise<void>((resolve) => this.http.server.close(() => resolve()));
    this.http.server.closeAllConnections();
    this.registry.close();
    await this.store.close();
  }
}
