/** Envoy xDS v3 resource type URLs, by the short names used across weft. */

export const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type TypeUrl = (typeof TYPE)[keyof typeof TYPE];

/** Short names for logs, metrics and debug output (`lds`, `rds`, `cds`, `eds`, `sds`), as Istio labels them. */
export const SHORT: Readonly<Record<string, string>> = {
  [TYPE.listener]: 'lds', [TYPE.route]: 'rds', [TYPE.cluster]: 'cds', [TYPE.endpoint]: 'eds', [TYPE.secret]: 'sds',
};

/** Types whose requests name no resources mean "all of them" (wildcard) in state-of-the-world ADS. */
export function isWildcardType(typeUrl: string): boolean {
  return typeUrl === TYPE.listener || typeUrl === TYPE.cluster;
}

/** The order Envoy's make-before-break rule wants pushes in: clusters, endpoints, listeners, routes. */
export const PUSH_ORDER: readonly string[] = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route, TYPE.secret];

/** The message type name behind a type URL (`envoy.config.cluster.v3.Cluster`). */
export function messageName(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}
