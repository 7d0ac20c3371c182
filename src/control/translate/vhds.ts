/**
 * Sidecar outbound routes over VHDS: a route configuration keeps only its catch-all virtual host and
 * points at ADS for the rest; every service's virtual host becomes a resource of its own named
 * `<route configuration>/<virtual host>`. A change to one service's routing then reaches each proxy as
 * that one virtual host over delta xDS, instead of the whole route configuration (hundreds of kB at a
 * thousand services). https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/vhds
 */
import { collectionOf } from '../../xds/type-urls.ts';
import { memoized } from '../../util/memo.ts';
import type { RouteConfiguration } from './outbound-routes.ts';

type VirtualHost = Record<string, unknown> & { name: string };

interface Split {
  /** The route configuration as sent over RDS: inline catch-all, virtual hosts from ADS. */
  readonly config: RouteConfiguration;
  /** The virtual hosts sent over VHDS, renamed `<config>/<host>`. */
  readonly virtualHosts: readonly VirtualHost[];
}

const splits = new WeakMap<RouteConfiguration, Split>();
/** Per virtual host object, its VHDS form per configuration name: a host reused from push to push keeps its form (and encoding). */
const renamed = new WeakMap<object, Map<string, VirtualHost>>();

function vhdsForm(configName: string, vh: VirtualHost): VirtualHost {
  return memoized(memoized(renamed, vh, () => new Map<string, VirtualHost>()), configName, () => ({ ...vh, name: `${configName}/${vh.name}` }));
}

const isCatchAll = (vh: Record<string, unknown>): boolean => (vh['domains'] as string[] | undefined)?.includes('*') === true;

/** `config` split into its VHDS form; cached per config object, so proxies sharing it share the parts. */
export function splitForVhds(config: RouteConfiguration): Split {
  let split = splits.get(config);
  if (split !== undefined) return split;
  const all = (config['virtualHosts'] as VirtualHost[] | undefined) ?? [];
  const virtualHosts: VirtualHost[] = [];
  const inline: VirtualHost[] = [];
  for (const vh of all) {
    if (isCatchAll(vh)) inline.push(vh);
    else virtualHosts.push(vhdsForm(config.name, vh));
  }
  split = {
    config: { ...config, virtualHosts: inline, vhds: { configSource: { ads: {}, resourceApiVersion: 'V3' } } },
    virtualHosts,
  };
  splits.set(config, split);
  return split;
}

/**
 * The virtual hosts of `config` a VHDS subscription asks for: all of them for the configuration's own
 * name (Envoy subscribes so), or the one named for an on-demand `<config>/<host>` name.
 */
export function subscribedVirtualHosts(config: RouteConfiguration, names: readonly string[] | undefined): readonly VirtualHost[] {
  const { virtualHosts } = splitForVhds(config);
  if (names === undefined || names.includes(config.name)) return virtualHosts;
  const wanted = new Set(names.filter((n) => collectionOf(n) === config.name));
  return wanted.size === 0 ? [] : virtualHosts.filter((vh) => wanted.has(vh.name));
}
