/**
 * VHDS on the proxy side: virtual hosts that arrive as resources of their own
 * (`envoy.config.route.v3.VirtualHost`, named `<route configuration>/<host>`) for route configurations
 * that carry a `vhds` config source. The store keeps them per route configuration; the route store
 * merges them after the configuration's inline virtual hosts whenever either side changes. Envoy's
 * subscription asks for a route configuration's name and receives all of its virtual hosts.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/vhds
 */
import type { Proto, ResourceHandler } from '../core/contracts.ts';
import { TYPE, collectionOf } from '../../xds/type-urls.ts';

/** Why a route configuration's `vhds` cannot be served, or undefined when it can (ADS, the only source weft has). */
export function vhdsProblem(vhds: unknown): string | undefined {
  const source = (vhds as { configSource?: Record<string, unknown> } | null)?.configSource;
  if (source === undefined || source === null) return 'vhds.configSource: required';
  if (source['ads'] === undefined) return 'vhds.configSource: only ads is supported (virtual hosts come over the ADS stream, delta xDS)';
  return undefined;
}

/** The VHDS resource handler: virtual hosts by route configuration, in name order. */
export class VirtualHostStore implements ResourceHandler {
  readonly typeUrl = TYPE.virtualHost;
  readonly #byConfig = new Map<string, Map<string, Proto>>();
  /** Per route configuration, its virtual hosts as a list (rebuilt only after a change). */
  readonly #lists = new Map<string, readonly Proto[]>();
  readonly #validate: (routeConfig: string, name: string, vh: Proto) => string[];
  readonly #changed: (routeConfigs: ReadonlySet<string>) => void;

  /**
   * `validate` checks one virtual host in the context of its route configuration; `changed` hears
   * which route configurations' virtual hosts changed after each update.
   */
  constructor(validate: (routeConfig: string, name: string, vh: Proto) => string[], changed: (routeConfigs: ReadonlySet<string>) => void) {
    this.#validate = validate;
    this.#changed = changed;
  }

  validate(name: string, resource: Proto): string[] {
    const routeConfig = collectionOf(name);
    if (routeConfig === '') return [`name: must be <route configuration>/<host> (got ${JSON.stringify(name)})`];
    return this.#validate(routeConfig, name, resource);
  }

  apply(resources: ReadonlyMap<string, Proto>, removed: readonly string[]): void {
    const touched = new Set<string>();
    for (const [name, vh] of resources) {
      const routeConfig = collectionOf(name);
      let hosts = this.#byConfig.get(routeConfig);
      if (hosts === undefined) this.#byConfig.set(routeConfig, (hosts = new Map()));
      hosts.set(name, vh);
      touched.add(routeConfig);
    }
    for (const name of removed) {
      const routeConfig = collectionOf(name);
      const hosts = this.#byConfig.get(routeConfig);
      // A removed collection name (its subscription ended) takes all of its virtual hosts along.
      if (this.#byConfig.delete(name)) touched.add(name);
      if (hosts?.delete(name) === true) {
        if (hosts.size === 0) this.#byConfig.delete(routeConfig);
        touched.add(routeConfig);
      }
    }
    for (const rc of touched) this.#lists.delete(rc);
    if (touched.size > 0) this.#changed(touched);
  }

  /** The virtual hosts of route configuration `routeConfig`, ordered by name. */
  of(routeConfig: string): readonly Proto[] {
    let list = this.#lists.get(routeConfig);
    if (list === undefined) {
      const hosts = this.#byConfig.get(routeConfig);
      list = hosts === undefined ? [] : [...hosts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, vh]) => vh);
      this.#lists.set(routeConfig, list);
    }
    return list;
  }
}
