/**
 * A Listener resource (`envoy.config.listener.v3.Listener`, decoded) validated and compiled into its
 * runtime form: address, listener filters, the filter-chain match tree, each chain's network filter
 * factory and config, timeouts. Compilation collects every problem (`field.path: problem`) so LDS can
 * NACK with all of them. Unknown network or listener filter types are problems (Envoy's network and
 * listener filters have no `is_optional`); fields that change behaviour and that weft cannot honour
 * (UDP, internal listeners, the xDS matcher API, extra addresses, ECDS) are problems; pure socket
 * tuning (buffer limits, socket options, reuse_port, transparent…) is accepted and not applied.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener.proto
 */
import { isIP } from 'node:net';
import type { NetworkFilterFactory, Proto } from '../core/contracts.ts';
import type { Stats } from '../core/stats.ts';
import { anyTypeUrl, bool, boolValue, durationMs, enumName, integer, message, messages, problem, string, typeName, uintValue, unsupported } from '../network/proto-read.ts';
import type { Problems } from '../network/proto-read.ts';
import type { NetworkFilterRegistry } from '../network/registry.ts';
import { FilterChainMatcher } from './filter-chain-match.ts';
import type { ActiveListenerFilter } from './inspect.ts';
import { compilePredicate } from './listener-filter.ts';
import type { ListenerFilterRegistry } from './listener-filter.ts';

export type TrafficDirection = 'UNSPECIFIED' | 'INBOUND' | 'OUTBOUND';

export interface CompiledChain {
  /** Identity of what the chain runs (filters and transport socket): equal keys share one runtime across updates. */
  readonly key: string;
  readonly name: string;
  /** The terminal network filter; undefined for a chain without filters (its connections are closed). */
  readonly filter: { readonly factory: NetworkFilterFactory; readonly config: Proto } | undefined;
}

export interface CompiledListener {
  readonly name: string;
  readonly proto: Proto;
  /** Serialized resource: an update with the same text changes nothing. */
  readonly text: string;
  /** A proxyless gRPC `api_listener`: accepted, not served by the data plane. */
  readonly api: boolean;
  readonly host: string;
  readonly port: number;
  readonly bindToPort: boolean;
  readonly useOriginalDst: boolean;
  readonly statPrefix: string;
  readonly direction: TrafficDirection;
  readonly listenerFilters: readonly ActiveListenerFilter[];
  /** 0: no timeout. */
  readonly listenerFiltersTimeoutMs: number;
  readonly continueOnListenerFiltersTimeout: boolean;
  readonly chains: readonly CompiledChain[];
  readonly defaultChain: CompiledChain | undefined;
  readonly matcher: FilterChainMatcher<CompiledChain>;
  readonly drainType: 'DEFAULT' | 'MODIFY_ONLY';
  readonly backlog: number | undefined;
}

export interface CompileContext {
  readonly networkFilters: NetworkFilterRegistry;
  readonly listenerFilters: ListenerFilterRegistry;
  /** Where listener filters keep their counters. */
  readonly stats: Stats;
}

/** Envoy's default `listener_filters_timeout`. */
const DEFAULT_LISTENER_FILTERS_TIMEOUT_MS = 15_000;
const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

function address(l: Proto, problems: Problems): { host: string; port: number } {
  const a = message(l, 'address', 'address', problems);
  if (a === undefined) {
    problem(problems, 'address', 'required (a socket address to listen on)');
    return { host: '', port: 0 };
  }
  unsupported(a, ['pipe', 'envoyInternalAddress'], 'address', problems, 'only socket addresses are supported by weft');
  const s = message(a, 'socketAddress', 'address', problems);
  if (s === undefined) {
    if (a['pipe'] === undefined && a['envoyInternalAddress'] === undefined) problem(problems, 'address.socketAddress', 'required');
    return { host: '', port: 0 };
  }
  const p = 'address.socketAddress';
  const host = string(s, 'address', p, problems);
  if (isIP(host) === 0) problem(problems, `${p}.address`, 'must be an IP address', host);
  const port = integer(s, 'portValue', p, problems);
  if (port < 0 || port > 65535) problem(problems, `${p}.portValue`, 'must be 0-65535', port);
  if (enumName(s, 'protocol', ['TCP', 'UDP'] as const, p, problems) === 'UDP') problem(problems, `${p}.protocol`, 'UDP listeners are not supported by weft');
  unsupported(s, ['namedPort', 'resolverName'], p, problems);
  return { host, port };
}

function transportSocket(chain: Proto, path: string, problems: Problems): void {
  const ts = message(chain, 'transportSocket', path, problems);
  if (ts === undefined) return;
  const type = anyTypeUrl(ts['typedConfig']);
  if (type === undefined || typeName(type) === RAW_BUFFER) return;
  problem(problems, `${path}.transportSocket`, `${typeName(type)} is not supported yet (downstream TLS arrives with the security work)`);
}

function networkFilter(f: Proto, path: string, isLast: boolean, ctx: CompileContext, problems: Problems): CompiledChain['filter'] {
  if (string(f, 'name', path, problems) === '') problem(problems, `${path}.name`, 'must not be empty');
  unsupported(f, ['configDiscovery'], path, problems, 'extension config discovery (ECDS) is not supported by weft');
  const config = message(f, 'typedConfig', path, problems);
  const type = anyTypeUrl(config);
  if (config === undefined || type === undefined) {
    problem(problems, `${path}.typedConfig`, 'required (filters are found by the type of their typed config)');
    return undefined;
  }
  const factory = ctx.networkFilters.get(type);
  if (factory === undefined) {
    problem(problems, `${path}.typedConfig`, `unknown network filter type ${typeName(type)} (known: ${ctx.networkFilters.types().join(', ') || 'none'})`);
    return undefined;
  }
  // Every network filter weft has is terminal (it owns the connection), so it must come last, as in Envoy.
  if (!isLast) problem(problems, path, `terminal filter ${typeName(type)} must be the last filter in the chain`);
  for (const p of factory.validate(config)) problems.push(`${path}.${p}`);
  return { factory, config };
}

function compileChain(chain: Proto, path: string, ctx: CompileContext, problems: Problems): CompiledChain {
  const filters = messages(chain, 'filters', path, problems);
  let filter: CompiledChain['filter'];
  filters.forEach((f, i) => {
    const compiled = networkFilter(f, `${path}.filters[${i}]`, i === filters.length - 1, ctx, problems);
    if (i === filters.length - 1) filter = compiled;
  });
  transportSocket(chain, path, problems);
  unsupported(chain, ['onDemandConfiguration', 'useProxyProto'], path, problems);
  return {
    key: JSON.stringify([chain['filters'] ?? null, chain['transportSocket'] ?? null]),
    name: string(chain, 'name', path, problems),
    filter,
  };
}

function listenerFilters(l: Proto, ctx: CompileContext, problems: Problems): ActiveListenerFilter[] {
  const out: ActiveListenerFilter[] = [];
  messages(l, 'listenerFilters', '', problems).forEach((f, i) => {
    const path = `listenerFilters[${i}]`;
    const name = string(f, 'name', path, problems);
    if (name === '') problem(problems, `${path}.name`, 'must not be empty');
    unsupported(f, ['configDiscovery'], path, problems, 'extension config discovery (ECDS) is not supported by weft');
    const config = message(f, 'typedConfig', path, problems);
    const type = anyTypeUrl(config);
    const factory = type === undefined ? undefined : ctx.listenerFilters.get(type);
    if (config === undefined || type === undefined) problem(problems, `${path}.typedConfig`, 'required (filters are found by the type of their typed config)');
    else if (factory === undefined) problem(problems, `${path}.typedConfig`, `unknown listener filter type ${typeName(type)}`);
    const disabledProto = message(f, 'filterDisabled', path, problems);
    const disabled = disabledProto === undefined ? undefined : compilePredicate(disabledProto, `${path}.filterDisabled`, problems);
    if (factory === undefined || config === undefined) return;
    const before = problems.length;
    for (const p of factory.validate(config)) problems.push(`${path}.${p}`);
    if (problems.length === before) out.push({ name, filter: factory.create(config, ctx.stats), disabled });
  });
  return out;
}

const IGNORED_FOR_API = { host: '', port: 0 };

/** Validates and compiles one Listener; `problems` receives every problem found. */
export function compileListener(name: string, l: Proto, ctx: CompileContext, problems: Problems): CompiledListener {
  const declared = string(l, 'name', '', problems);
  if (declared !== '' && declared !== name) problem(problems, 'name', `differs from the resource name '${name}'`, declared);
  const api = message(l, 'apiListener', '', problems) !== undefined;
  const where = api ? IGNORED_FOR_API : address(l, problems);
  const chainProtos = api ? [] : messages(l, 'filterChains', '', problems);
  const chains = chainProtos.map((c, i) => compileChain(c, `filterChains[${i}]`, ctx, problems));
  const defaultProto = api ? undefined : message(l, 'defaultFilterChain', '', problems);
  const defaultChain = defaultProto === undefined ? undefined : compileChain(defaultProto, 'defaultFilterChain', ctx, problems);
  if (!api && chains.length === 0 && defaultChain === undefined) problem(problems, 'filterChains', 'at least one filter chain or a defaultFilterChain is required');
  const matcher = FilterChainMatcher.compile(chainProtos.map((c, i) => ({ match: c['filterChainMatch'] as Proto | undefined, value: chains[i]! })), 'filterChains', problems);
  if (!api) unsupported(l, ['udpListenerConfig', 'internalListener', 'filterChainMatcher', 'additionalAddresses', 'enableMptcp'], '', problems);
  const v1 = message(l, 'deprecatedV1', '', problems);
  const timeout = durationMs(l, 'listenerFiltersTimeout', '', problems);
  return {
    name,
    proto: l,
    text: JSON.stringify(l),
    api,
    host: where.host,
    port: where.port,
    bindToPort: boolValue(l, 'bindToPort', '', problems) ?? (v1 === undefined ? undefined : boolValue(v1, 'bindToPort', 'deprecatedV1', problems)) ?? true,
    useOriginalDst: boolValue(l, 'useOriginalDst', '', problems) ?? false,
    statPrefix: string(l, 'statPrefix', '', problems),
    direction: enumName(l, 'trafficDirection', ['UNSPECIFIED', 'INBOUND', 'OUTBOUND'] as const, '', problems),
    listenerFilters: api ? [] : listenerFilters(l, ctx, problems),
    listenerFiltersTimeoutMs: timeout ?? DEFAULT_LISTENER_FILTERS_TIMEOUT_MS,
    continueOnListenerFiltersTimeout: bool(l, 'continueOnListenerFiltersTimeout', '', problems),
    chains,
    defaultChain,
    matcher,
    drainType: enumName(l, 'drainType', ['DEFAULT', 'MODIFY_ONLY'] as const, '', problems),
    backlog: uintValue(l, 'tcpBacklogSize', '', problems),
  };
}
