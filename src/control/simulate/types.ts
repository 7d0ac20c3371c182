/**
 * The simulator's inputs and outputs: the xDS resources one proxy received (plain camelCase objects,
 * as weft's generators build them or `decodeResource` returns them, keyed by resource name), a call,
 * and where that call lands. Only the Envoy fields the walk reads are typed; everything is optional,
 * as protobuf defaults are.
 */

export type Plain = Readonly<Record<string, unknown>>;

/** The resources a proxy received, keyed by resource name. */
export interface ProxyConfig {
  readonly listeners: Readonly<Record<string, Plain>>;
  readonly routes?: Readonly<Record<string, Plain>>;
  readonly clusters?: Readonly<Record<string, Plain>>;
  /** ClusterLoadAssignments keyed by cluster (EDS service) name. */
  readonly endpoints?: Readonly<Record<string, Plain>>;
}

export type CallProtocol = 'http' | 'http2' | 'tcp';

/** One request (or TCP connection) as a client makes it. */
export interface Call {
  /** The port the client connects to (under transparent capture, the original destination port). */
  readonly port: number;
  /** The IP the client connects to; when absent, a listener on any address of `port` will do. */
  readonly address?: string;
  /** The `:authority` (Host) header, e.g. `reviews:9080`. `host` is an alias. */
  readonly authority?: string;
  readonly host?: string;
  /** `:path` with an optional query string; default `/`. */
  readonly path?: string;
  /** Default `GET`. */
  readonly method?: string;
  /** Default `http` (`https` when `tls`). */
  readonly scheme?: string;
  /** Request headers, names in any case; several values join with a comma as Envoy does. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Default `http`. */
  readonly protocol?: CallProtocol;
  /** Whether the connection is TLS (the filter chain's transport protocol is then `tls`). */
  readonly tls?: boolean;
  readonly sni?: string;
  /** ALPN offered in the TLS handshake. */
  readonly alpn?: readonly string[];
}

export type SimErrorCode =
  | 'NO_LISTENER' | 'NO_FILTER_CHAIN' | 'MULTIPLE_FILTER_CHAINS' | 'NO_NETWORK_FILTER' | 'PROTOCOL_ERROR'
  | 'NO_ROUTE_CONFIG' | 'NO_VIRTUAL_HOST' | 'NO_ROUTE' | 'UNKNOWN_CLUSTER' | 'UNSUPPORTED';

export interface SimError {
  readonly code: SimErrorCode;
  readonly message: string;
}

/** A cluster the call may land on, with its share and the endpoints Envoy would pick from. */
export interface ClusterTarget {
  readonly name: string;
  /** Relative weight (the only cluster of a route weighs 1). */
  readonly weight: number;
  /** Whether the proxy has this cluster. */
  readonly exists: boolean;
  /** `address:port` (or `unix://path`) of the endpoints that can take traffic (not unhealthy or draining). */
  readonly endpoints: readonly string[];
}

export type ActionKind = 'route' | 'redirect' | 'direct_response' | 'tcp_proxy' | 'non_forwarding';

export interface SimResult {
  /** No error: the call reached an action (a cluster, a redirect or a direct response). */
  readonly ok: boolean;
  readonly error?: SimError;
  readonly listener?: string;
  /** The filter chain's name, or `#<index>` (`default` for the default filter chain). */
  readonly filterChain?: string;
  readonly routeConfig?: string;
  readonly virtualHost?: string;
  /** The matched route's name, and its index in the virtual host. */
  readonly route?: string;
  readonly routeIndex?: number;
  readonly action?: ActionKind;
  /** Every candidate cluster with its weight (one for a plain route, several for weighted clusters). */
  readonly clusters: readonly ClusterTarget[];
  /** The cluster, when there is exactly one candidate. */
  readonly cluster?: string;
  /** The endpoints of `cluster`, when there is exactly one candidate. */
  readonly endpoints?: readonly string[];
  /** Status of a redirect or direct response. */
  readonly status?: number;
  /** The RedirectAction (or `{httpsRedirect: true}` for a virtual host that requires TLS). */
  readonly redirect?: Plain;
  readonly body?: string;
  /** Response headers the route adds (`x-weft-error`…), last value wins. */
  readonly responseHeaders?: Readonly<Record<string, string>>;
}
