/** Envoy xDS v3 resource type URLs, by the short names used across weft. */

export const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  /** VHDS: a route configuration's virtual hosts as resources of their own (delta xDS only). */
  virtualHost: 'type.googleapis.com/envoy.config.route.v3.VirtualHost',
} as const;

export type TypeUrl = (typeof TYPE)[keyof typeof TYPE];

/** Type URLs of the network filters' configs that listeners carry (a filter's `typedConfig['@type']`). */
export const FILTER_TYPE = {
  httpConnectionManager: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
} as const;

/** Short names for logs, metrics and debug output (`lds`, `rds`, `cds`, `eds`, `sds`), as Istio labels them. */
export const SHORT: Readonly<Record<string, string>> = {
  [TYPE.listener]: 'lds', [TYPE.route]: 'rds', [TYPE.cluster]: 'cds', [TYPE.endpoint]: 'eds', [TYPE.secret]: 'sds',
  [TYPE.virtualHost]: 'vhds',
};

/** Types whose requests name no resources mean "all of them" (wildcard) in state-of-the-world ADS. */
export function isWildcardType(typeUrl: string): boolean {
  return typeUrl === TYPE.listener || typeUrl === TYPE.cluster;
}

/**
 * Types whose subscriptions may name a collection: VHDS virtual hosts are named
 * `<route configuration>/<host>`, and subscribing to the route configuration's name asks for all of
 * its virtual hosts (what Envoy's VHDS subscription does).
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/vhds
 */
export function isCollectionType(typeUrl: string): boolean {
  return typeUrl === TYPE.virtualHost;
}

/** The collection a VHDS resource name belongs to (`15001/reviews:9080` → `15001`); the host part holds no `/`. */
export function collectionOf(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? '' : name.slice(0, slash);
}

/**
 * Whether a subscription to `names` of `typeUrl` covers resource `name`: named directly, or (for a
 * collection type) through its collection's name. The one membership rule of server, client and tests.
 */
export function subscriptionCovers(typeUrl: string, names: ReadonlySet<string>, name: string): boolean {
  return names.has(name) || (isCollectionType(typeUrl) && names.has(collectionOf(name)));
}

/** The order Envoy's make-before-break rule wants pushes in: clusters, endpoints, listeners, routes (and their virtual hosts). */
export const PUSH_ORDER: readonly string[] = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route, TYPE.virtualHost, TYPE.secret];

/** The message type name behind a type URL (`envoy.config.cluster.v3.Cluster`). */
export function messageName(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
