/**
 * The compiled form of an Envoy `RouteConfiguration` and the routing decision for one request. Compiled
 * objects are immutable and built once per config version; a decision points into them, so the
 * per-request cost is the decision object itself plus any rewritten path or host.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route.proto
 */
import type { DomainIndex } from './domains.ts';
import type { HashPolicy } from './hash-policy.ts';
import type { HeaderMatcher, QueryParameterMatcher } from './matchers.ts';
import type { HeaderMutation } from './header-mutations.ts';
import type { MetadataLookup, MetadataMatcher } from './metadata-matcher.ts';
import type { FilterConfigs } from './per-filter-config.ts';
import type { Fraction, Proto } from './proto.ts';
import type { RegexRewrite, Regex } from './regex.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { WeightedTargets } from './weighted-clusters.ts';

/** A request as route selection sees it. The connection manager builds one per request. */
export interface RouteRequest {
  /** `:method` as received (`GET`, `CONNECT`…). */
  readonly method: string;
  /** `:authority` (Host), after the connection manager's own port stripping; undefined when absent. */
  readonly authority: string | undefined;
  /**
   * The request's scheme as Envoy's router reads it (`x-forwarded-proto`, which the connection manager
   * sets from the connection): `require_tls`, redirects and the `:scheme` matcher use it.
   */
  readonly scheme: string;
  /** `:path` with its query string; undefined for a CONNECT without one (only `connect_matcher` routes take those). */
  readonly path: string | undefined;
  /** Regular headers by lower-case name; several values joined with ','. */
  readonly headers: RequestHeaders;
  /** Uniform in [0, 1), like `Math.random`; drawn at most once per selection (runtime fractions, weighted clusters). */
  readonly random: () => number;
  /** Dynamic metadata written by earlier HTTP filters, by filter name (for `dynamic_metadata` matchers). */
  readonly metadata?: MetadataLookup;
  /** The downstream TLS peer certificate state (for `tls_context` matchers); absent means plaintext. */
  readonly tls?: { readonly presented: boolean; readonly validated: boolean };
  /** The downstream client address (for `connection_properties` hash policies). */
  readonly sourceAddress?: string;
}

/** A request's regular headers as routing reads them. */
export interface RequestHeaders {
  /** The value of header `name` (lower case); several field lines joined with ','. */
  get(name: string): string | undefined;
  /** Each field line's value of header `name`, in arrival order (hash policies sort them). */
  values(name: string): string | readonly string[] | undefined;
}

export type PathMatch =
  | { readonly kind: 'prefix'; readonly value: string; readonly caseSensitive: boolean }
  | { readonly kind: 'path'; readonly value: string; readonly caseSensitive: boolean }
  | { readonly kind: 'path_separated_prefix'; readonly value: string; readonly caseSensitive: boolean }
  | { readonly kind: 'safe_regex'; readonly regex: Regex }
  | { readonly kind: 'connect' }
  | { readonly kind: 'never' };

export interface RouteMatch {
  readonly path: PathMatch;
  readonly headers: readonly HeaderMatcher[];
  readonly queryParameters: readonly QueryParameterMatcher[];
  readonly grpc: boolean;
  readonly runtimeFraction: Fraction | undefined;
  readonly tlsContext: { readonly presented: boolean | undefined; readonly validated: boolean | undefined } | undefined;
  readonly dynamicMetadata: readonly MetadataMatcher[];
}

export type HostRewrite =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'path_regex'; readonly rewrite: RegexRewrite }
  | { readonly kind: 'auto' };

/** Where a routed request goes: one cluster, or one entry of weighted clusters. Precompiled. */
export interface ClusterTarget {
  /** The cluster name; '' when it comes from a header (`headerName`). */
  readonly name: string;
  /** `cluster_header`: the cluster named by this request header (first value). */
  readonly headerName: string | undefined;
  readonly weight: number;
  /** In Envoy's order: weighted cluster, route, virtual host, route configuration (or as `most_specific_header_mutations_wins` says). */
  readonly requestHeaders: readonly HeaderMutation[];
  readonly responseHeaders: readonly HeaderMutation[];
  /** The most specific per-filter configs: weighted cluster over route over virtual host over route configuration. */
  readonly perFilterConfig: FilterConfigs;
  /** A weighted cluster's `host_rewrite_literal` (the route's own host rewrite takes precedence). */
  readonly hostRewriteLiteral: string | undefined;
}

export interface UpgradeSettings {
  /** Upgrade type (lower-cased: `websocket`, `connect`…) → enabled. */
  readonly types: ReadonlyMap<string, boolean>;
  /** `connect_config` of the CONNECT upgrade: terminate CONNECT here and stream the payload. */
  readonly connect: { readonly allowPost: boolean } | undefined;
}

export interface MirrorPolicy {
  readonly cluster: string;
  readonly clusterHeader: string | undefined;
  readonly fraction: Fraction;
  /** undefined: inherit the parent span's sampling. */
  readonly traceSampled: boolean | undefined;
  readonly disableShadowHostSuffixAppend: boolean;
}

export interface Timeouts {
  /** `timeout`: Envoy's default 15 s when unset; 0 disables it. */
  readonly routeMs: number;
  /** `idle_timeout`: undefined when unset (the connection manager's stream idle timeout applies); 0 disables it. */
  readonly idleMs: number | undefined;
  readonly maxStreamDurationMs: number | undefined;
  readonly grpcTimeoutHeaderMaxMs: number | undefined;
  readonly grpcTimeoutHeaderOffsetMs: number | undefined;
  /** Deprecated `max_grpc_timeout` / `grpc_timeout_offset` (Istio still sets them). */
  readonly maxGrpcTimeoutMs: number | undefined;
  readonly grpcTimeoutOffsetMs: number | undefined;
}

/** Forwarding settings of a `route` action. */
export interface Forwarding {
  /** One target for `cluster` / `cluster_header`; the entries of `weighted_clusters` otherwise. */
  readonly targets: WeightedTargets;
  /** Whether the targets came from `weighted_clusters` (the pick then uses the request's random value). */
  readonly weighted: boolean;
  /** Status for a cluster that does not exist: 503 (default), 404 or 500. */
  readonly clusterNotFoundStatus: number;
  readonly prefixRewrite: string | undefined;
  readonly regexRewrite: RegexRewrite | undefined;
  readonly hostRewrite: HostRewrite | undefined;
  readonly appendXForwardedHost: boolean;
  readonly timeouts: Timeouts;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly hashPolicy: readonly HashPolicy[];
  readonly mirrors: readonly MirrorPolicy[];
  readonly upgrades: UpgradeSettings;
  /** Raw, for the parts that read them later (hedging, internal redirects, deprecated CORS, rate limits). */
  readonly hedgePolicy: Proto | undefined;
  readonly internalRedirectPolicy: Proto | undefined;
  readonly action: Proto;
}

export interface Redirect {
  readonly status: number;
  readonly scheme: string | undefined;
  readonly httpsRedirect: boolean;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly pathRedirect: string | undefined;
  readonly pathRedirectHasQuery: boolean;
  readonly prefixRewrite: string | undefined;
  readonly regexRewrite: RegexRewrite | undefined;
  readonly stripQuery: boolean;
}

export interface DirectResponse {
  readonly status: number;
  /** The body (inline bytes, string or environment variable), undefined for none. */
  readonly body: Buffer | undefined;
}

export type RouteAction =
  | { readonly kind: 'route'; readonly forward: Forwarding }
  | { readonly kind: 'redirect'; readonly redirect: Redirect }
  | { readonly kind: 'direct_response'; readonly response: DirectResponse }
  | { readonly kind: 'non_forwarding' };

export interface RouteEntry {
  /** `name`, or '' when unnamed. */
  readonly name: string;
  readonly index: number;
  readonly virtualHost: VirtualHostEntry;
  readonly match: RouteMatch;
  readonly action: RouteAction;
  /** For redirects, direct responses and single-cluster routes: the route's own mutations and filter configs. */
  readonly target: ClusterTarget;
  readonly bufferLimitBytes: number | undefined;
  readonly decorator: string | undefined;
  readonly statPrefix: string;
  readonly metadata: Proto | undefined;
  readonly proto: Proto;
}

export type TlsRequirement = 'NONE' | 'EXTERNAL_ONLY' | 'ALL';

export interface VirtualHostEntry {
  readonly name: string;
  readonly index: number;
  readonly domains: readonly string[];
  readonly routes: readonly RouteEntry[];
  readonly requireTls: TlsRequirement;
  readonly includeRequestAttemptCount: boolean;
  readonly includeAttemptCountInResponse: boolean;
  readonly includeIsTimeoutRetryHeader: boolean;
  readonly proto: Proto;
}

export interface CompiledRoutes {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHostEntry[];
  /** Headers the connection manager strips from requests that come from outside the mesh. */
  readonly internalOnlyHeaders: readonly string[];
  readonly maxDirectResponseBodySizeBytes: number;
  readonly ignorePortInHostMatching: boolean;
  readonly ignorePathParametersInPathMatching: boolean;
  readonly mostSpecificHeaderMutationsWins: boolean;
  /** Virtual host lookup by domain (see domains.ts). */
  readonly hosts: DomainIndex<VirtualHostEntry>;
  readonly proto: Proto;
}

/** Where selection ended. Every kind but `route` is answered by the proxy itself. */
export type Decision =
  | RouteDecision
  | { readonly kind: 'redirect'; readonly virtualHost: VirtualHostEntry; readonly route: RouteEntry | undefined; readonly status: number; readonly location: string }
  | { readonly kind: 'direct_response'; readonly virtualHost: VirtualHostEntry; readonly route: RouteEntry; readonly status: number; readonly body: Buffer | undefined }
  | { readonly kind: 'non_forwarding'; readonly virtualHost: VirtualHostEntry; readonly route: RouteEntry }
  /** NR: a virtual host matched but none of its routes did. */
  | { readonly kind: 'no_route'; readonly virtualHost: VirtualHostEntry }
  /** NR: no virtual host serves the authority. */
  | { readonly kind: 'no_virtual_host' };

export interface RouteDecision {
  readonly kind: 'route';
  readonly virtualHost: VirtualHostEntry;
  readonly route: RouteEntry;
  readonly forward: Forwarding;
  readonly target: ClusterTarget;
  /** The cluster to forward to: the target's name or, for `cluster_header`, the header's first value ('' when absent). */
  readonly cluster: string;
  /** The new `:path` (with query) after prefix/regex rewrite, or undefined when unchanged. */
  readonly path: string | undefined;
  /** The new `:authority` after a host rewrite, or undefined when unchanged (`auto_host_rewrite` is left to the router: see `forward.hostRewrite`). */
  readonly authority: string | undefined;
}
