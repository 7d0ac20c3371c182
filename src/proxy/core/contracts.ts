/**
 * The contracts between the proxy's parts, so each can be built and tested alone:
 * - the xDS client feeds validated resources to `ResourceHandler`s (one per type URL);
 * - the cluster manager serves `ClusterHandle`s to the router and the TCP proxy;
 * - the route store serves compiled route configurations (RDS or inline) to HTTP connection managers;
 * - the listener manager builds network filters through factories registered by type URL.
 * Config objects are decoded Envoy v3 protos as plain camelCase objects (see `decodeResource`).
 */
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import type { Stats } from './stats.ts';

/** A decoded Envoy resource (plain object). */
export type Proto = Readonly<Record<string, unknown>>;

/**
 * Consumes one resource type. The xDS client calls `validate` for every resource of a response first
 * (all problems, as `field.path: problem` strings; an empty list means valid), NACKs the whole response
 * if any resource has problems (keeping everything as it was), and otherwise calls `apply`.
 * For Listener and Cluster (state of the world), `resources` is the complete set; for RouteConfiguration
 * and ClusterLoadAssignment it holds the resources that changed, and `removed` names deleted ones (delta)
 * or ones whose subscription ended.
 */
export interface ResourceHandler {
  readonly typeUrl: string;
  validate(name: string, resource: Proto): string[];
  apply(resources: ReadonlyMap<string, Proto>, removed: readonly string[], complete: boolean): void;
}

/** Where the proxy asks the xDS client for named resources (RDS names from listeners, EDS names from clusters). */
export interface Subscriptions {
  /** Sets the names wanted for a non-wildcard type (RDS, EDS); the client (re)subscribes as needed. */
  want(typeUrl: string, names: ReadonlySet<string>): void;
}

/**
 * What a caller saw of one request to a host, for outlier detection (Envoy's `Outlier::Result`):
 * `connect-success` the request reached a connection (HTTP: the status follows), `connect-success-final`
 * a connection was all there was to it (TCP proxy, CONNECT), `connect-failed` a connect failure or a
 * reset, `timeout` the request timed out.
 */
export type OutlierResult = 'connect-success' | 'connect-success-final' | 'connect-failed' | 'timeout';

/**
 * A host's outlier monitor, present while its cluster has outlier detection. Callers report every
 * request's outcome once: the pools report response statuses, resets and connections, the router its
 * timeouts. Both calls are a few counter updates; an ejection they trigger takes effect at once.
 */
export interface OutlierMonitor {
  /** An HTTP response status from the host (gRPC: the status mapped from `grpc-status`). */
  putHttpStatus(status: number): void;
  putResult(result: OutlierResult): void;
}

/** One upstream host of a cluster, as the load balancer sees it. */
export interface UpstreamHost {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly healthy: boolean;
  readonly locality: string;
  /** `address:port` (IPv6 in brackets), when the cluster keeps it made, so requests need not build it. */
  readonly addressString?: string;
  /** The host's outlier monitor while its cluster detects outliers. */
  readonly outlier?: OutlierMonitor | undefined;
}

export interface PickContext {
  /**
   * Hash for RING_HASH / MAGLEV (from the route's hash policy): an unsigned integer. A 64-bit hash (e.g.
   * Envoy's xxHash64 of the header value) may be passed as a lossy Number — values ≥ 2^32 count by their
   * top 32 bits; smaller values are taken as 32-bit hashes.
   */
  readonly hash?: number;
  /** Hosts to avoid (retries with previous-hosts predicate). */
  readonly exclude?: ReadonlySet<UpstreamHost>;
  /** ORIGINAL_DST: the destination the downstream connection or header asked for (`ip:port`). */
  readonly originalDestination?: string;
}

/** Where the router sends a request: undici's dispatcher API, the only part of it the router relies on. */
export interface UpstreamDispatcher {
  /** Starts the request; every outcome reaches `handler` (never thrown once dispatched). */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
}

/** A cluster, as the router and the TCP proxy use it. Valid until the cluster is removed or replaced. */
export interface ClusterHandle {
  readonly name: string;
  /** Whether requests to this cluster use HTTP/2 (explicit http2_protocol_options). */
  readonly http2: boolean;
  readonly connectTimeoutMs: number;
  /** A host by the cluster's load-balancing policy, or undefined when none is healthy. */
  pick(ctx?: PickContext): UpstreamHost | undefined;
  /**
   * The pooled HTTP dispatcher for a host (keep-alive HTTP/1.1 or multiplexed HTTP/2), kept across EDS
   * updates. It counts what a pool sees, as Envoy's pools do: `upstream_rq_total` and
   * `upstream_rq_completed` per request, `upstream_cx_total` and `upstream_cx_connect_fail` per
   * connection attempt; callers must not count these again.
   */
  dispatcher(host: UpstreamHost): UpstreamDispatcher;
  /** A TCP connection to a host (TCP proxy, CONNECT), failing after the connect timeout; counts its attempt and failure as `dispatcher` does. */
  connect(host: UpstreamHost): Promise<Socket>;
  /**
   * Clusters with `use_downstream_protocol_config`: the upstream protocol follows the downstream
   * request's; use `dispatcherFor` (`dispatcher` then speaks HTTP/1.1).
   */
  readonly useDownstreamProtocol?: boolean;
  /** The pooled dispatcher speaking HTTP/2 (`true`) or HTTP/1.1 to a host, whatever the cluster's default. */
  dispatcherFor?(host: UpstreamHost, http2: boolean): UpstreamDispatcher;
  /**
   * ORIGINAL_DST clusters with `use_http_header`: the (lower-case) header whose `ip:port` value the router
   * passes as `PickContext.originalDestination`.
   */
  readonly originalDstHeader?: string;
  /**
   * Whether its load balancer picks by the request hash (RING_HASH, MAGLEV). Envoy evaluates a route's
   * hash policy only for such clusters (LoadBalancerContext::computeHashKey): elsewhere no hash is
   * computed and no cookie minted.
   */
  readonly usesHash: boolean;
  /** Circuit breakers: whether another request may start now (max_requests / max_pending); a refusal counts `upstream_rq_pending_overflow`. */
  admit(): boolean;
  /** Per-cluster counters (`upstream_rq_total`, `upstream_cx_connect_fail`…), already prefixed. */
  counter(name: string): { value: number };
}

export interface ClusterManager {
  cluster(name: string): ClusterHandle | undefined;
}

/** A compiled route configuration (opaque to everyone but the HTTP router that compiled it). */
export interface RouteStore {
  /** The route configuration named `name`, compiled, or undefined while it has not arrived. */
  get(name: string): unknown;
  /** Called whenever a route configuration arrives or changes. */
  onChange(listener: (name: string) => void): () => void;
}

/** What a network filter gets for each accepted connection. */
export interface ConnectionInfo {
  readonly socket: Socket;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** SNI and ALPN when a TLS inspector ran; `tls` when the transport was detected as TLS. */
  readonly serverName?: string;
  readonly alpn?: readonly string[];
  readonly transport: 'raw_buffer' | 'tls';
  /** Bytes the listener filters read ahead (already consumed from the socket); the filter must replay them. */
  readonly preread?: Buffer;
}

/** A network filter built from its typed config once per listener version, run per connection. */
export interface NetworkFilter {
  onConnection(info: ConnectionInfo): void;
  /** Stop accepting new streams (draining); let in-flight ones finish. */
  drain(): void;
  /**
   * Optional: called once when no listener version uses this filter any more and its last connection
   * has closed (after draining, or at once if it never had one). Release subscriptions and timers.
   */
  close?(): void;
}

export interface NetworkFilterDeps {
  readonly clusters: ClusterManager;
  readonly routes: RouteStore;
  readonly stats: Stats;
  readonly subscriptions: Subscriptions;
  /** The listener's name and direction, for stat prefixes and headers. */
  readonly listener: { readonly name: string; readonly direction: 'INBOUND' | 'OUTBOUND' | 'UNSPECIFIED' };
}

/** Builds a network filter from a typed config (`@type` …HttpConnectionManager, …TcpProxy). */
export interface NetworkFilterFactory {
  readonly typeUrl: string;
  /** Problems in the config (empty when valid). */
  validate(config: Proto): string[];
  create(config: Proto, deps: NetworkFilterDeps): NetworkFilter;
}
