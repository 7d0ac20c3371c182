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

/** The RDS handler and the store connection managers read from. */
export class RouteConfigStore implements RouteStore, ResourceHandler {
  readonly typeUrl = TYPE.route;
  readonly #registry: HttpFilterRegistry;
  readonly #routes = new Map<string, CompiledRoutes>();
  readonly #listeners = new Set<(name: string) => void>();

  constructor(registry: HttpFilterRegistry) {
    this.#registry = registry;
  }

  validate(name: string, resource: Proto): string[] {
    const c = compileRoutes(resource, this.#registry);
    const problems = [...c.problems];
    if (c.config.name !== '' && c.config.name !== name) problems.push(`name: ${JSON.stringify(c.config.name)} differs from the resource name ${JSON.stringify(name)}`);
    return problems;
  }

  apply(resources: ReadonlyMap<string, Proto>, removed: readonly string[], _complete = false): void {
    const changed: string[] = [];
    for (const [name, proto] of resources) {
      const c = compileRoutes(proto, this.#registry);
      if (this.#routes.get(name) === c.config) continue;
      this.#routes.set(name, c.config);
      changed.push(name);
    }
    for (const name of removed) if (this.#routes.delete(name)) changed.push(name);
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
