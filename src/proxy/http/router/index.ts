/**
 * Route selection for weft's HTTP connection manager: Envoy's `RouteConfiguration` compiled once per
 * config version (`compileRouteConfiguration`, every problem as `field.path: problem`) and a pure,
 * low-allocation decision per request (`selectRoute`). No sockets, no I/O: the connection manager
 * applies the decision (forwards, answers, rewrites, mutates headers with `applyHeaderMutations`).
 */
export { compileRouteConfiguration, type CompileOptions } from './compile.ts';
export { selectRoute, routeHash, shouldMirror, mirrorCluster } from './select.ts';
export { applyHeaderMutations, type HeaderMutation, type HeaderToAdd, type MutableHeaders, type AppendAction } from './header-mutations.ts';
export type { CommandEvaluator, FormatCommand, HeaderValueFormat } from './header-format.ts';
export { headerMatches, type HeaderMatcher } from './matchers.ts';
export type { FilterConfig, FilterConfigs, PerFilterConfigHook } from './per-filter-config.ts';
export type { HashPolicy } from './hash-policy.ts';
export type { RetryPolicy } from './retry-policy.ts';
export type { MetadataLookup } from './metadata-matcher.ts';
export type {
  ClusterTarget, CompiledRoutes, Decision, DirectResponse, Forwarding, HostRewrite, MirrorPolicy, PathMatch, Redirect,
  RouteAction, RouteDecision, RouteEntry, RouteMatch, RouteRequest, Timeouts, TlsRequirement, UpgradeSettings, VirtualHostEntry,
} from './types.ts';
