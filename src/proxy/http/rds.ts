/**
 * Route configurations for the connection managers: compiled with the routing module (per-route HTTP
 * filter configs validated and parsed once by the filter registry), served from a `RouteStore`, and fed
 * by RDS through a `ResourceHandler` (problems → NACK, keeping the last good config). Each connection
 * manager with `rds` registers its route name; the names wanted across all of them are sent to the xDS
 * client in one `Subscriptions.want` call per change (batched in a microtask, so replacing a listener —
 * new filter first or old one first — never unsubscribes a name that is still in use).
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/rds
 */
import type { Proto, ResourceHandler, RouteStore, Subscriptions } from '../core/contracts.ts';
import { VirtualHostStore, vhdsProblem } from './vhds.ts';
import { TYPE } from '../../xds/type-urls.ts';
import type { HttpFilterRegistry } from './filter.ts';
import { compileRouteConfiguration, type CompiledRoutes, type PerFilterConfigHook } from './router/index.ts';

/** The per-route config hook: the registry's factory for the config's type parses it once. */
export function perFilterConfigHook(registry: HttpFilterRegistry): PerFilterConfigHook {
  return (_name, typeUrl, config) => {
    const factory = registry.forPerRoute(typeUrl);
    if (factory?.parsePerRoute === undefined) return undefined;
    const parsed = factory.parsePerRoute(config, '');
    return { problems: parsed.problems, compiled: parsed.config };
  };
}

export interface CompiledRouteConfig {
  readonly config: CompiledRoutes;
  readonly problems: readonly string[];
}

// Compiled results by registry and resource object: validate() and apply() see the same decoded object,
// so it is compiled once.
const compiled = new WeakMap<HttpFilterRegistry, WeakMap<object, CompiledRouteConfig>>();

export function compileRoutes(proto: Proto, registry: HttpFilterRegistry): CompiledRouteConfig {
  let byProto = compiled.get(registry);
  if (byProto === undefined) {
    byProto = new WeakMap();
    compiled.set(registry, byProto);
  }
  let c = byProto.get(proto);
  if (c === undefined) {
    c = compileRouteConfiguration(proto, { perFilterConfig: perFilterConfigHook(registry) });
    byProto.set(proto, c);
  }
  return c;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A route configuration without its `vhds` field (what is compiled, with the VHDS virtual hosts appended). */
const stripped = new WeakMap<Proto, Proto>();

function withoutVhds(proto: Proto): Proto {
  let out = stripped.get(proto);
  if (out === undefined) {
    const copy: Mutable<Record<string, unknown>> = { ...proto };
    delete copy['vhds'];
    out = copy;
    stripped.set(proto, out);
  }
  return out;
}

/**
 * The RDS handler and the store connection managers read from. Route configurations with `vhds` get
 * their virtual hosts from `virtualHosts`, the VHDS handler, which this store subscribes for them.
 */
export class RouteConfigStore implements RouteStore, ResourceHandler {
  readonly typeUrl = TYPE.route;
  /** The VHDS handler (register it with the xDS client beside this one). */
  readonly virtualHosts: VirtualHostStore;
  readonly #registry: HttpFilterRegistry;
  readonly #subs: Subscriptions | undefined;
  readonly #routes = new Map<string, CompiledRoutes>();
  /** Route configurations served with VHDS, as received. */
  readonly #vhdsConfigs = new Map<string, Proto>();
  /** See `#domainOwners`; dropped when a configuration or its virtual hosts change. */
  readonly #owners = new Map<string, Map<string, string>>();
  readonly #listeners = new Set<(name: string) => void>();

  /** `subs` is where VHDS subscriptions go; without it, route configurations with `vhds` are refused. */
  constructor(registry: HttpFilterRegistry, subs?: Subscriptions) {
    this.#registry = registry;
    this.#subs = subs;
    this.virtualHosts = new VirtualHostStore((rc, name, vh) => this.#validateVirtualHost(rc, name, vh), (rcs) => this.#virtualHostsChanged(rcs));
  }

  validate(name: string, resource: Proto): string[] {
    const problems: string[] = [];
    let proto = resource;
    if (resource['vhds'] !== undefined) {
      const p = this.#subs === undefined ? 'vhds: virtual host discovery needs an xDS subscription' : vhdsProblem(resource['vhds']);
      if (p !== undefined) problems.push(p);
      proto = withoutVhds(resource);
    }
    const c = compileRoutes(proto, this.#registry);
    problems.push(...c.problems);
    if (c.config.name !== '' && c.config.name !== name) problems.push(`name: ${JSON.stringify(c.config.name)} differs from the resource name ${JSON.stringify(name)}`);
    return problems;
  }

  apply(resources: ReadonlyMap<string, Proto>, removed: readonly string[], _complete = false): void {
    const changed: string[] = [];
    let vhdsChanged = false;
    for (const [name, proto] of resources) {
      const vhds = proto['vhds'] !== undefined;
      if (vhds !== this.#vhdsConfigs.has(name)) vhdsChanged = true;
      let config: CompiledRoutes;
      this.#owners.delete(name);
      if (vhds) {
        this.#vhdsConfigs.set(name, proto);
        config = this.#merged(name, proto);
      } else {
        this.#vhdsConfigs.delete(name);
        config = compileRoutes(proto, this.#registry).config;
      }
      if (this.#routes.get(name) === config) continue;
      this.#routes.set(name, config);
      changed.push(name);
    }
    for (const name of removed) {
      if (this.#vhdsConfigs.delete(name)) vhdsChanged = true;
      // Told even when it never arrived (absent, or its initial fetch timed out): a warming listener waits on it.
      this.#routes.delete(name);
      changed.push(name);
    }
    if (vhdsChanged) this.#subs?.want(TYPE.virtualHost, new Set(this.#vhdsConfigs.keys()));
    for (const name of changed) for (const l of this.#listeners) l(name);
  }

  get(name: string): CompiledRoutes | undefined {
    return this.#routes.get(name);
  }

  onChange(listener: (name: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Names currently held (for admin output). */
  names(): string[] {
    return [...this.#routes.keys()].sort();
  }

  /** A VHDS route configuration with its virtual hosts appended after the inline ones. */
  #merged(name: string, proto: Proto): CompiledRoutes {
    const base = withoutVhds(proto);
    const hosts = this.virtualHosts.of(name);
    if (hosts.length === 0) return compileRoutes(base, this.#registry).config;
    const inline = (base['virtualHosts'] as readonly Proto[] | undefined) ?? [];
    return compileRoutes({ ...base, virtualHosts: [...inline, ...hosts] }, this.#registry).config;
  }

  #virtualHostsChanged(routeConfigs: ReadonlySet<string>): void {
    for (const name of routeConfigs) {
      this.#owners.delete(name);
      const proto = this.#vhdsConfigs.get(name);
      if (proto === undefined) continue;
      this.#routes.set(name, this.#merged(name, proto));
      for (const l of this.#listeners) l(name);
    }
  }

  /** One VHDS virtual host: valid on its own, and claiming no domain another virtual host of its configuration serves. */
  #validateVirtualHost(routeConfig: string, name: string, vh: Proto): string[] {
    const proto = this.#vhdsConfigs.get(routeConfig);
    const base = proto === undefined ? { name: routeConfig } : withoutVhds(proto);
    const c = compileRoutes({ ...base, virtualHosts: [vh] }, this.#registry);
    const problems = c.problems.map((p) => p.replace(/^virtualHosts\[0\]\.?/, ''));
    const taken = this.#domainOwners(routeConfig, base);
    ((vh['domains'] as readonly string[] | undefined) ?? []).forEach((d, i) => {
      const owner = taken.get(String(d).toLowerCase());
      if (owner !== undefined && owner !== name) problems.push(`domains[${i}]: ${JSON.stringify(d)} is already served by virtual host ${JSON.stringify(owner)}`);
    });
    return problems;
  }

  /** Domain → name of the virtual host serving it, for a VHDS route configuration (built once per change). */
  #domainOwners(routeConfig: string, base: Proto): Map<string, string> {
    let owners = this.#owners.get(routeConfig);
    if (owners === undefined) {
      owners = new Map();
      for (const o of [...((base['virtualHosts'] as readonly Proto[] | undefined) ?? []), ...this.virtualHosts.of(routeConfig)]) {
        for (const d of (o['domains'] as readonly string[] | undefined) ?? []) owners.set(String(d).toLowerCase(), String(o['name']));
      }
      this.#owners.set(routeConfig, owners);
    }
    return owners;
  }
}

/** Route names wanted by live connection managers, counted, per `Subscriptions` object. */
class RdsInterest {
  readonly #subs: Subscriptions;
  readonly #counts = new Map<string, number>();
  #scheduled = false;
  #last = '';

  constructor(subs: Subscriptions) {
    this.#subs = subs;
  }

  add(name: string): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1);
    this.#schedule();
  }

  remove(name: string): void {
    const n = (this.#counts.get(name) ?? 0) - 1;
    if (n <= 0) this.#counts.delete(name);
    else this.#counts.set(name, n);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      const names = [...this.#counts.keys()].sort();
      const key = names.join('\n');
      if (key === this.#last) return;
      this.#last = key;
      this.#subs.want(TYPE.route, new Set(names));
    });
  }
}

const interests = new WeakMap<Subscriptions, RdsInterest>();

/** Registers interest in route configuration `name`; the returned function withdraws it (once). */
export function wantRoutes(subs: Subscriptions, name: string): () => void {
  let interest = interests.get(subs);
  if (interest === undefined) {
    interest = new RdsInterest(subs);
    interests.set(subs, interest);
  }
  interest.add(name);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    interest.remove(name);
  };
}
