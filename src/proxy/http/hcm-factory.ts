/**
 * The `NetworkFilterFactory` for `envoy.filters.network.http_connection_manager`: validates an HCM config
 * (with its inline route configuration and every HTTP filter config) and builds the connection manager
 * for a listener: HTTP filters prepared once, stats looked up once, routes from the inline config or the
 * route store (asking the xDS client for the RDS name).
 */
import type { NetworkFilter, NetworkFilterDeps, NetworkFilterFactory, Proto } from '../core/contracts.ts';
import { FILTER_TYPE } from '../../xds/type-urls.ts';
import type { HcmRuntime } from './active-stream.ts';
import { HttpConnectionManager } from './connection-manager.ts';
import type { HttpFilterRegistry } from './filter.ts';
import { compileHcm, type HcmConfig } from './hcm-config.ts';
import { HcmStats } from './hcm-stats.ts';
import { compileRoutes, wantRoutes } from './rds.ts';
import { field, Problems } from './router/proto.ts';
import { selectRoute, type CompiledRoutes } from './router/index.ts';
import type { StreamInfo } from './stream-info.ts';

export const HCM_TYPE = FILTER_TYPE.httpConnectionManager;

export interface HcmFactoryOptions {
  readonly filters: HttpFilterRegistry;
  /** Called once per finished stream (and per request rejected by the codec) with what happened. */
  readonly accessLog?: (info: StreamInfo, listener: string) => void;
}

interface Compiled {
  readonly config: HcmConfig;
  readonly inline: CompiledRoutes | undefined;
  readonly problems: readonly string[];
}

function compile(proto: Proto, registry: HttpFilterRegistry, cache: WeakMap<object, Compiled>): Compiled {
  let c = cache.get(proto);
  if (c !== undefined) return c;
  const problems = new Problems();
  const config = compileHcm(proto, registry, problems);
  let inline: CompiledRoutes | undefined;
  if (config.routes.kind === 'inline') {
    const routes = compileRoutes(config.routes.config, registry);
    for (const p of routes.problems) problems.list.push(field('routeConfig', p));
    inline = routes.config;
  }
  c = { config, inline, problems: problems.list };
  cache.set(proto, c);
  return c;
}

/**
 * The runtime every stream of one HCM config shares: filters prepared, stats looked up, the route
 * source bound. `create` below wraps it in the connection manager; benchmarks drive streams on it directly.
 */
export function hcmRuntime(c: HcmConfig, inline: CompiledRoutes | undefined, deps: NetworkFilterDeps, accessLog: HcmFactoryOptions['accessLog']): HcmRuntime {
  const stats = new HcmStats(deps.stats, c.statPrefix);
  const makers = c.filters.map((slot) => slot.factory.prepare(slot.config, { name: slot.name, statPrefix: stats.prefix, stats: deps.stats }));
  const source = c.routes;
  const listener = deps.listener.name;
  return {
    config: c,
    stats,
    clusters: deps.clusters,
    filters: c.filters,
    makers,
    routes: source.kind === 'rds' ? () => deps.routes.get(source.name) as CompiledRoutes | undefined : () => inline,
    selectRoute,
    accessLog: accessLog === undefined ? undefined : (info) => accessLog(info, listener),
  };
}

/** Compiles an HCM config as `create` does, with every problem found (the config is usable only when there are none). */
export function compileHcmConfig(config: Proto, registry: HttpFilterRegistry): { config: HcmConfig; inline: CompiledRoutes | undefined; problems: readonly string[] } {
  return compile(config, registry, new WeakMap());
}

export function httpConnectionManagerFactory(options: HcmFactoryOptions): NetworkFilterFactory {
  const cache = new WeakMap<object, Compiled>();
  return {
    typeUrl: HCM_TYPE,
    validate: (config) => [...compile(config, options.filters, cache).problems],
    create(config: Proto, deps: NetworkFilterDeps): NetworkFilter {
      const c = compile(config, options.filters, cache);
      const rt = hcmRuntime(c.config, c.inline, deps, options.accessLog);
      const source = c.config.routes;
      const release = source.kind === 'rds' ? wantRoutes(deps.subscriptions, source.name) : () => {};
      return new HttpConnectionManager(rt, release);
    },
  };
}
