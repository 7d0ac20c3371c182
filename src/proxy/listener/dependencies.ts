/**
 * What a listener needs before it may serve (Envoy's listener warming): the route configurations its
 * HTTP connection managers name over RDS, and the clusters its TCP proxies send to. The proxy's
 * readiness predicate checks them against the route store and the cluster manager.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/listeners/listeners#listener-warming
 */
import type { Proto } from '../core/contracts.ts';
import { FILTER_TYPE } from '../../xds/type-urls.ts';
import { memoized } from '../../util/memo.ts';

export interface ListenerDependencies {
  readonly routes: readonly string[];
  readonly clusters: readonly string[];
}

const list = (v: unknown): readonly Proto[] => (Array.isArray(v) ? (v as Proto[]) : []);
const obj = (v: unknown): Proto | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Proto) : undefined);

const cache = new WeakMap<Proto, ListenerDependencies>();

/** The RDS names and TCP proxy clusters of every filter chain of `listener` (decoded Envoy Listener). */
export function listenerDependencies(listener: Proto): ListenerDependencies {
  return memoized(cache, listener, findDependencies);
}

function findDependencies(listener: Proto): ListenerDependencies {
  const routes = new Set<string>();
  const clusters = new Set<string>();
  const chains = [...list(listener['filterChains']), ...(obj(listener['defaultFilterChain']) ? [obj(listener['defaultFilterChain'])!] : [])];
  for (const chain of chains) {
    for (const filter of list(chain['filters'])) {
      const config = obj(filter['typedConfig']);
      if (config === undefined) continue;
      if (config['@type'] === FILTER_TYPE.httpConnectionManager) {
        const name = obj(config['rds'])?.['routeConfigName'];
        if (typeof name === 'string' && name !== '') routes.add(name);
      } else if (config['@type'] === FILTER_TYPE.tcpProxy) {
        if (typeof config['cluster'] === 'string') clusters.add(config['cluster']);
        for (const c of list(obj(config['weightedClusters'])?.['clusters'])) if (typeof c['name'] === 'string') clusters.add(c['name']);
      }
    }
  }
  return { routes: [...routes], clusters: [...clusters] };
}
