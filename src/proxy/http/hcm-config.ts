/**
 * `HttpConnectionManager` (envoy.extensions.filters.network.http_connection_manager.v3) compiled once per
 * listener version: codec, route source (RDS name or inline configuration), the HTTP filter chain (parsed
 * by the registry; unknown non-optional filters and a chain not ending in the router are problems),
 * header handling (x-forwarded-for, request ids, server header), timeouts and limits, with Envoy's
 * defaults. Every problem is collected for the NACK.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
 */
import type { Http10Options } from '../codec/http1/request-parser.ts';
import type { Proto } from '../core/contracts.ts';
import type { AnyFilterFactory, HttpFilterRegistry } from './filter.ts';
import type { EscapedSlashesAction } from './path-normalization.ts';
import { ROUTER_TYPE } from './filters/router-filter.ts';
import { anyTypeUrl, bool, durationMs, enumName, field, has, list, num, obj, Problems, str } from './router/proto.ts';

export interface FilterSlot {
  readonly name: string;
  readonly factory: AnyFilterFactory;
  readonly config: unknown;
  /** `disabled`: skipped unless a route's per-filter config enables it. */
  readonly disabled: boolean;
}

export interface UpgradeConfig {
  readonly enabled: boolean;
}

export type RouteSource = { readonly kind: 'rds'; readonly name: string } | { readonly kind: 'inline'; readonly config: Proto };

export interface HcmConfig {
  readonly statPrefix: string;
  readonly codec: 'AUTO' | 'HTTP1' | 'HTTP2';
  readonly routes: RouteSource;
  readonly filters: readonly FilterSlot[];
  /** Upgrade type (lower-cased) → config; CONNECT is `connect`. */
  readonly upgrades: ReadonlyMap<string, UpgradeConfig>;
  readonly useRemoteAddress: boolean;
  readonly xffNumTrustedHops: number;
  readonly skipXffAppend: boolean;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  readonly alwaysSetRequestIdInResponse: boolean;
  readonly serverName: string;
  readonly serverHeader: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  readonly via: string;
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  /** IMPLEMENTATION_SPECIFIC_DEFAULT is KEEP_UNCHANGED, as in Envoy without the runtime override. */
  readonly pathWithEscapedSlashesAction: EscapedSlashesAction;
  readonly stripPort: 'none' | 'any' | 'matching';
  /** 0 disables. */
  readonly streamIdleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly requestHeadersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnectionDurationMs: number;
  readonly drainTimeoutMs: number;
  readonly maxHeadersCount: number;
  readonly maxRequestHeadersBytes: number;
  /** 0: unlimited. */
  readonly maxRequestsPerConnection: number;
  readonly allowAbsoluteUrl: boolean;
  /** `http_protocol_options.accept_http_10` (Envoy's default: false, HTTP/1.0 gets 426) and `default_host_for_http_10`. */
  readonly http10: Http10Options;
  readonly http2MaxConcurrentStreams: number;
  readonly http2InitialStreamWindow: number | undefined;
  readonly http2InitialConnectionWindow: number | undefined;
  readonly allowConnect: boolean;
}

const CODECS = ['AUTO', 'HTTP1', 'HTTP2', 'HTTP3'];
const SERVER_HEADER = ['OVERWRITE', 'APPEND_IF_ABSENT', 'PASS_THROUGH'] as const;
const ESCAPED_SLASHES = ['IMPLEMENTATION_SPECIFIC_DEFAULT', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'];

function ms(p: Proto, key: string, path: string, problems: Problems, fallback: number): number {
  return durationMs(p, key, path, problems) ?? fallback;
}

/** The `http_filters` list: each filter's config parsed once, the router last. */
export function compileFilters(v: unknown, registry: HttpFilterRegistry, path: string, problems: Problems): FilterSlot[] {
  const slots: FilterSlot[] = [];
  const entries = list(v);
  entries.forEach((e, i) => {
    const at = field(path, i);
    const f = obj(e) ?? {};
    const name = str(f['name']) ?? '';
    if (name === '') problems.add(field(at, 'name'), 'required');
    const optional = bool(f['isOptional']);
    if (has(f, 'configDiscovery')) {
      if (!optional) problems.add(field(at, 'configDiscovery'), 'filter config discovery (ECDS) is not supported');
      return;
    }
    const typeUrl = anyTypeUrl(f['typedConfig']);
    const factory = typeUrl === undefined ? undefined : registry.get(typeUrl);
    if (factory === undefined) {
      if (!optional) problems.add(field(at, 'typedConfig'), typeUrl === undefined ? 'required (an Any with @type)' : `unknown HTTP filter type ${typeUrl}`);
      return;
    }
    const parsed = factory.parse(obj(f['typedConfig']) ?? {}, field(at, 'typedConfig'));
    for (const p of parsed.problems) problems.list.push(p);
    if (factory.terminal === true && i !== entries.length - 1) problems.add(at, `terminal filter ${name} must be the last HTTP filter`);
    slots.push({ name, factory, config: parsed.config, disabled: bool(f['disabled']) });
  });
  if (entries.length === 0) {
    // No filters at all: the router alone, as Envoy configures it by default.
    const router = registry.get(ROUTER_TYPE);
    if (router !== undefined) slots.push({ name: 'envoy.filters.http.router', factory: router, config: router.parse({}, path).config, disabled: false });
  }
  const last = slots[slots.length - 1];
  if (last === undefined || last.factory.terminal !== true) problems.add(path, 'the last HTTP filter must be a terminal filter (the router)');
  return slots;
}

function compileUpgrades(v: unknown, path: string, problems: Problems): Map<string, UpgradeConfig> {
  const out = new Map<string, UpgradeConfig>();
  list(v).forEach((u, i) => {
    const at = field(path, i);
    const o = obj(u) ?? {};
    const type = (str(o['upgradeType']) ?? '').toLowerCase();
    if (type === '') problems.add(field(at, 'upgradeType'), 'required');
    if (list(o['filters']).length > 0) problems.add(field(at, 'filters'), 'upgrade-specific filter chains are not supported');
    if (out.has(type)) problems.add(field(at, 'upgradeType'), `duplicate upgrade type ${type}`);
    out.set(type, { enabled: bool(o['enabled'], true) });
  });
  return out;
}

function compileRouteSource(c: Proto, path: string, problems: Problems): RouteSource {
  if (has(c, 'rds')) {
    const rds = obj(c['rds']) ?? {};
    const name = str(rds['routeConfigName']) ?? '';
    if (name === '') problems.add(field(field(path, 'rds'), 'routeConfigName'), 'required');
    return { kind: 'rds', name };
  }
  if (has(c, 'routeConfig')) return { kind: 'inline', config: obj(c['routeConfig']) ?? {} };
  if (has(c, 'scopedRoutes')) problems.add(field(path, 'scopedRoutes'), 'scoped routes are not supported');
  else problems.add(path, 'one of rds, routeConfig is required');
  return { kind: 'inline', config: {} };
}

export function compileHcm(c: Proto, registry: HttpFilterRegistry, problems: Problems, path = ''): HcmConfig {
  const at = (k: string) => field(path, k);
  const statPrefix = str(c['statPrefix']) ?? '';
  if (statPrefix === '') problems.add(at('statPrefix'), 'required');
  const codec = enumName(c, 'codecType', CODECS, path, problems);
  if (codec === 'HTTP3') problems.add(at('codecType'), 'HTTP/3 is not supported');
  const common = obj(c['commonHttpProtocolOptions']) ?? {};
  const h1 = obj(c['httpProtocolOptions']) ?? {};
  const h2 = obj(c['http2ProtocolOptions']) ?? {};
  const maxHeadersKb = num(c['maxRequestHeadersKb']) ?? 60;
  if (maxHeadersKb < 1 || maxHeadersKb > 8192) problems.add(at('maxRequestHeadersKb'), `must be in [1, 8192] (got ${maxHeadersKb})`);
  const upgrades = compileUpgrades(c['upgradeConfigs'], at('upgradeConfigs'), problems);
  // HTTP/2 settings weft advertises as they are: out of Envoy's ranges they would break every client's connection.
  const h2At = (k: string) => field(at('http2ProtocolOptions'), k);
  const h2Streams = num(h2['maxConcurrentStreams']);
  if (h2Streams !== undefined && h2Streams < 1) problems.add(h2At('maxConcurrentStreams'), `must be at least 1 (got ${h2Streams})`);
  const h2Window = (k: string): number | undefined => {
    const v = num(h2[k]);
    if (v === undefined || (v >= 65_535 && v <= 2_147_483_647)) return v;
    problems.add(h2At(k), `must be in [65535, 2147483647] (got ${v})`);
    return undefined;
  };
  const h2StreamWindow = h2Window('initialStreamWindowSize');
  const h2ConnectionWindow = h2Window('initialConnectionWindowSize');
  const escapedSlashes = enumName(c, 'pathWithEscapedSlashesAction', ESCAPED_SLASHES, path, problems);
  return {
    statPrefix,
    codec: codec === 'HTTP3' ? 'AUTO' : (codec as HcmConfig['codec']),
    routes: compileRouteSource(c, path, problems),
    filters: compileFilters(c['httpFilters'], registry, at('httpFilters'), problems),
    upgrades,
    useRemoteAddress: bool(c['useRemoteAddress']),
    xffNumTrustedHops: num(c['xffNumTrustedHops']) ?? 0,
    skipXffAppend: bool(c['skipXffAppend']),
    generateRequestId: bool(c['generateRequestId'], true),
    preserveExternalRequestId: bool(c['preserveExternalRequestId']),
    alwaysSetRequestIdInResponse: bool(c['alwaysSetRequestIdInResponse']),
    serverName: str(c['serverName']) || 'weft',
    serverHeader: enumName(c, 'serverHeaderTransformation', SERVER_HEADER, path, problems) as HcmConfig['serverHeader'],
    via: str(c['via']) ?? '',
    normalizePath: bool(c['normalizePath']),
    mergeSlashes: bool(c['mergeSlashes']),
    pathWithEscapedSlashesAction: escapedSlashes === 'IMPLEMENTATION_SPECIFIC_DEFAULT' ? 'KEEP_UNCHANGED' : (escapedSlashes as EscapedSlashesAction),
    stripPort: bool(c['stripAnyHostPort']) ? 'any' : bool(c['stripMatchingHostPort']) ? 'matching' : 'none',
    streamIdleTimeoutMs: ms(c, 'streamIdleTimeout', path, problems, 300_000),
    requestTimeoutMs: ms(c, 'requestTimeout', path, problems, 0),
    requestHeadersTimeoutMs: ms(c, 'requestHeadersTimeout', path, problems, 0),
    idleTimeoutMs: ms(common, 'idleTimeout', at('commonHttpProtocolOptions'), problems, 3_600_000),
    maxConnectionDurationMs: ms(common, 'maxConnectionDuration', at('commonHttpProtocolOptions'), problems, 0),
    drainTimeoutMs: ms(c, 'drainTimeout', path, problems, 5000),
    maxHeadersCount: num(common['maxHeadersCount']) ?? 100,
    maxRequestHeadersBytes: maxHeadersKb * 1024,
    maxRequestsPerConnection: num(common['maxRequestsPerConnection']) ?? 0,
    allowAbsoluteUrl: bool(h1['allowAbsoluteUrl'], true),
    http10: http10Options(h1),
    http2MaxConcurrentStreams: num(h2['maxConcurrentStreams']) ?? 2_147_483_647,
    http2InitialStreamWindow: h2StreamWindow,
    http2InitialConnectionWindow: h2ConnectionWindow,
    allowConnect: bool(h2['allowConnect']) || upgrades.has('connect'),
  };
}

/** `accept_http_10` and `default_host_for_http_10` of `http_protocol_options`. */
function http10Options(h1: Record<string, unknown>): Http10Options {
  const defaultHost = str(h1['defaultHostForHttp_10']);
  return { accept: bool(h1['acceptHttp_10']), ...(defaultHost ? { defaultHost } : {}) };
}
