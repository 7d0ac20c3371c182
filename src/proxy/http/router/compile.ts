/**
 * Compiles a decoded `envoy.config.route.v3.RouteConfiguration` (from RDS or inline in a connection
 * manager) into `CompiledRoutes`, once per config version, validating everything it reads: every
 * problem is collected as `field.path: problem` (camelCase paths of the decoded object), so the xDS
 * client can NACK with all of them and keep the last good config. The result is usable even with
 * problems (bad parts become never-matching or empty), but callers must not serve a config that has any.
 * What routes inherit is resolved here, not per request: header mutations of every level in Envoy's
 * order, the most specific `typed_per_filter_config`, retry and mirror policies.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route.proto
 */
import { buildDomainIndex } from './domains.ts';
import { compileHeaderMutation, type HeaderMutation } from './header-mutations.ts';
import { compilePerFilterConfigs, mergeFilterConfigs, type FilterConfigs, type PerFilterConfigHook } from './per-filter-config.ts';
import { bool, enumName, field, has, headerName, headerValue, list, num, obj, Problems, str, type Proto } from './proto.ts';
import { compileDirectResponse, compileRedirect } from './redirect.ts';
import { compileForwarding, compileMirrorPolicy, type Inherited } from './route-action.ts';
import { compileRouteMatch } from './route-match.ts';
import { compileRetryPolicy } from './retry-policy.ts';
import type { CompiledRoutes, MirrorPolicy, RouteAction, RouteEntry, TlsRequirement, VirtualHostEntry } from './types.ts';
import { levelTarget, type Levels } from './weighted-clusters.ts';

export interface CompileOptions {
  /** Validates and pre-compiles per-route HTTP filter configs (the HTTP filter registry provides it). */
  readonly perFilterConfig?: PerFilterConfigHook;
}

const DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES = 4096;

/** What the route configuration level contributes to everything below it. */
interface Global {
  readonly request: HeaderMutation | undefined;
  readonly response: HeaderMutation | undefined;
  readonly perFilterConfig: FilterConfigs;
  readonly mirrors: readonly MirrorPolicy[];
  readonly mostSpecificWins: boolean;
  readonly maxBody: number;
  readonly hook: PerFilterConfigHook | undefined;
}

export function compileRouteConfiguration(proto: Proto, options: CompileOptions = {}): { config: CompiledRoutes; problems: string[] } {
  const problems = new Problems();
  const rc = obj(proto) ?? {};
  const global = compileGlobal(rc, problems, options.perFilterConfig);
  const virtualHosts = list(rc['virtualHosts']).map((vh, i) => compileVirtualHost(obj(vh) ?? {}, i, global, field('virtualHosts', i), problems));
  const ignorePort = bool(rc['ignorePortInHostMatching']);
  const hosts = buildDomainIndex(virtualHosts, (vh) => vh.domains, (vh, j) => field(field(field('virtualHosts', vh.index), 'domains'), j), ignorePort, problems);
  const config: CompiledRoutes = {
    name: str(rc['name']) ?? '',
    virtualHosts,
    internalOnlyHeaders: list(rc['internalOnlyHeaders']).map((h, i) => headerName(h, field('internalOnlyHeaders', i), problems)),
    maxDirectResponseBodySizeBytes: global.maxBody,
    ignorePortInHostMatching: ignorePort,
    ignorePathParametersInPathMatching: bool(rc['ignorePathParametersInPathMatching']),
    mostSpecificHeaderMutationsWins: global.mostSpecificWins,
    hosts,
    proto: rc,
  };
  return { config, problems: problems.list };
}

function compileGlobal(rc: Proto, problems: Problems, hook: PerFilterConfigHook | undefined): Global {
  if (has(rc, 'vhds')) problems.add('vhds', 'virtual host discovery (VHDS) is not supported');
  list(rc['clusterSpecifierPlugins']).forEach((p, i) => {
    if (!bool(obj(p)?.['isOptional'])) problems.add(field('clusterSpecifierPlugins', i), 'cluster specifier plugins are not supported');
  });
  return {
    request: compileHeaderMutation(rc, 'request', '', problems),
    response: compileHeaderMutation(rc, 'response', '', problems),
    perFilterConfig: compilePerFilterConfigs(rc['typedPerFilterConfig'], 'typedPerFilterConfig', problems, hook),
    mirrors: list(rc['requestMirrorPolicies']).map((m, i) => compileMirrorPolicy(m, field('requestMirrorPolicies', i), problems)),
    mostSpecificWins: bool(rc['mostSpecificHeaderMutationsWins']),
    maxBody: num(rc['maxDirectResponseBodySizeBytes']) ?? DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES,
    hook,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const TLS: readonly TlsRequirement[] = ['NONE', 'EXTERNAL_ONLY', 'ALL'];

function compileVirtualHost(vh: Proto, index: number, global: Global, path: string, problems: Problems): VirtualHostEntry {
  const at = (k: string) => field(path, k);
  const name = str(vh['name']) ?? '';
  if (name === '') problems.add(at('name'), 'required');
  const domains = list(vh['domains']).map((d, j) => headerValue(d, field(at('domains'), j), problems));
  if (domains.length === 0) problems.add(at('domains'), 'at least one domain required');
  if (has(vh, 'matcher')) problems.add(at('matcher'), 'the virtual host matcher tree is not supported; use routes');
  if (has(vh, 'retryPolicyTypedConfig')) problems.add(at('retryPolicyTypedConfig'), 'not supported');
  const entry: Mutable<VirtualHostEntry> = {
    name, index, domains, routes: [],
    requireTls: enumName(vh, 'requireTls', TLS, path, problems) as TlsRequirement,
    includeRequestAttemptCount: bool(vh['includeRequestAttemptCount']),
    includeAttemptCountInResponse: bool(vh['includeAttemptCountInResponse']),
    includeIsTimeoutRetryHeader: bool(vh['includeIsTimeoutRetryHeader']),
    proto: vh,
  };
  const mirrors = list(vh['requestMirrorPolicies']).map((m, i) => compileMirrorPolicy(m, field(at('requestMirrorPolicies'), i), problems));
  const scope: VirtualHostScope = {
    entry, global,
    request: compileHeaderMutation(vh, 'request', path, problems),
    response: compileHeaderMutation(vh, 'response', path, problems),
    perFilterConfig: mergeFilterConfigs(global.perFilterConfig, compilePerFilterConfigs(vh['typedPerFilterConfig'], at('typedPerFilterConfig'), problems, global.hook)),
    retryPolicy: has(vh, 'retryPolicy') ? compileRetryPolicy(vh['retryPolicy'], at('retryPolicy'), problems) : undefined,
    hedgePolicy: obj(vh['hedgePolicy']),
    mirrors: mirrors.length > 0 ? mirrors : global.mirrors,
    bufferLimitBytes: num(vh['perRequestBufferLimitBytes']),
  };
  entry.routes = list(vh['routes']).map((r, i) => compileRoute(obj(r) ?? {}, i, scope, field(at('routes'), i), problems));
  return entry;
}

interface VirtualHostScope {
  readonly entry: VirtualHostEntry;
  readonly global: Global;
  readonly request: HeaderMutation | undefined;
  readonly response: HeaderMutation | undefined;
  readonly perFilterConfig: FilterConfigs;
  readonly retryPolicy: Inherited['retryPolicy'];
  readonly hedgePolicy: Proto | undefined;
  readonly mirrors: readonly MirrorPolicy[];
  readonly bufferLimitBytes: number | undefined;
}

/** Envoy's `getHeaderParsers`: route, virtual host, route configuration — or the reverse when the most specific must win. */
function ordered(route: HeaderMutation | undefined, vh: HeaderMutation | undefined, rc: HeaderMutation | undefined, mostSpecificWins: boolean): readonly HeaderMutation[] {
  const all = mostSpecificWins ? [rc, vh, route] : [route, vh, rc];
  return all.filter((m): m is HeaderMutation => m !== undefined);
}

function compileRoute(r: Proto, index: number, scope: VirtualHostScope, path: string, problems: Problems): RouteEntry {
  const { global } = scope;
  const levels: Levels = {
    requestHeaders: ordered(compileHeaderMutation(r, 'request', path, problems), scope.request, global.request, global.mostSpecificWins),
    responseHeaders: ordered(compileHeaderMutation(r, 'response', path, problems), scope.response, global.response, global.mostSpecificWins),
    perFilterConfig: mergeFilterConfigs(scope.perFilterConfig, compilePerFilterConfigs(r['typedPerFilterConfig'], field(path, 'typedPerFilterConfig'), problems, global.hook)),
  };
  const inherited: Inherited = {
    levels, retryPolicy: scope.retryPolicy, hedgePolicy: scope.hedgePolicy, mirrors: scope.mirrors, hook: global.hook, maxDirectResponseBodyBytes: global.maxBody,
  };
  const action = compileAction(r, inherited, path, problems);
  return {
    name: str(r['name']) ?? '',
    index,
    virtualHost: scope.entry,
    match: compileRouteMatch(r['match'], field(path, 'match'), problems),
    action,
    target: action.kind === 'route' && !action.forward.weighted ? action.forward.targets.clusters[0]! : levelTarget(levels, ''),
    bufferLimitBytes: num(r['perRequestBufferLimitBytes']) ?? scope.bufferLimitBytes,
    decorator: str(obj(r['decorator'])?.['operation']),
    statPrefix: str(r['statPrefix']) ?? '',
    metadata: obj(r['metadata']),
    proto: r,
  };
}

const ACTIONS = ['route', 'redirect', 'directResponse', 'filterAction', 'nonForwardingAction'];

function compileAction(r: Proto, inherited: Inherited, path: string, problems: Problems): RouteAction {
  const set = ACTIONS.filter((k) => has(r, k));
  if (set.length > 1) problems.add(path, `only one action may be set (got ${set.join(', ')})`);
  const at = (k: string) => field(path, k);
  switch (set[0]) {
    case 'route':
      return { kind: 'route', forward: compileForwarding(obj(r['route']) ?? {}, inherited, at('route'), problems) };
    case 'redirect':
      return { kind: 'redirect', redirect: compileRedirect(obj(r['redirect']) ?? {}, at('redirect'), problems) };
    case 'directResponse':
      return { kind: 'direct_response', response: compileDirectResponse(obj(r['directResponse']) ?? {}, inherited.maxDirectResponseBodyBytes, at('directResponse'), problems) };
    case 'nonForwardingAction':
      return { kind: 'non_forwarding' };
    case 'filterAction':
      problems.add(at('filterAction'), 'filter actions are not supported');
      return { kind: 'non_forwarding' };
    default:
      problems.add(path, 'one of route, redirect, directResponse, nonForwardingAction is required');
      return { kind: 'non_forwarding' };
  }
}
