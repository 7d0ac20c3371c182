/**
 * Compiles a CDS `Cluster` into a `ClusterConfig`, once per cluster version: discovery type, load
 * balancing policy (from `lb_policy` or `load_balancing_policy`, through the LB registry), circuit
 * breakers, outlier detection (`outlier-config.ts`), HTTP protocol options, DNS and ORIGINAL_DST
 * settings, inline endpoints. Every field weft uses is validated and every problem collected
 * (`field.path: problem`) for the NACK; fields weft does not apply yet (active health checks, slow
 * start) are accepted and ignored.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto
 */
import { isIP } from 'node:net';
import type { Assignment } from './endpoints.ts';
import { compileAssignment, EMPTY_ASSIGNMENT } from './endpoints.ts';
import type { LbRegistry } from './lb/registry.ts';
import { lbTypeUrl } from './lb/registry.ts';
import type { LbSpec } from './lb/types.ts';
import type { OutlierConfig } from './outlier-config.ts';
import { compileOutlierDetection } from './outlier-config.ts';
import type { HttpOptions } from './protocol-options.ts';
import { compileHttpOptions } from './protocol-options.ts';
import type { Proto } from './proto-read.ts';
import { anyType, at, bool, durationMs, enumName, has, list, message, obj, percent, Problems, text, u32 } from './proto-read.ts';
import type { TransportSocketRegistry } from './transport-sockets.ts';
import { checkClusterTransportSockets } from './transport-sockets.ts';
import type { DnsOptions } from './dns-config.ts';
import { compileDnsOptions } from './dns-config.ts';

export const DISCOVERY_TYPES = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'] as const;
export type DiscoveryType = (typeof DISCOVERY_TYPES)[number];

/** `Cluster.LbPolicy`; index = enum number (4 was ORIGINAL_DST_LB, removed in v3). */
const LB_POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RING_HASH', 'RANDOM', 'ORIGINAL_DST_LB', 'MAGLEV', 'CLUSTER_PROVIDED', 'LOAD_BALANCING_POLICY_CONFIG'] as const;
const CLUSTER_PROVIDED_URL = lbTypeUrl('cluster_provided.v3.ClusterProvided');

export interface CircuitBreakerLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

/** Envoy's defaults when a cluster sets no thresholds. */
export const DEFAULT_LIMITS: CircuitBreakerLimits = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

export interface OriginalDstOptions {
  readonly useHttpHeader: boolean;
  readonly headerName: string;
  readonly portOverride: number | undefined;
  readonly cleanupIntervalMs: number;
}

export interface ClusterConfig {
  readonly name: string;
  /** The stat prefix name: `alt_stat_name` or the cluster name. */
  readonly statName: string;
  readonly type: DiscoveryType;
  readonly connectTimeoutMs: number;
  /** EDS: the ClusterLoadAssignment name to subscribe to (`eds_cluster_config.service_name` or the cluster name). */
  readonly edsServiceName: string | undefined;
  /** STATIC, STRICT_DNS, LOGICAL_DNS: the inline `load_assignment`. */
  readonly assignment: Assignment;
  /** Undefined for ORIGINAL_DST (CLUSTER_PROVIDED), and for a config with problems in its policy. */
  readonly lb: LbSpec | undefined;
  readonly panicThreshold: number;
  readonly limits: CircuitBreakerLimits;
  /** Undefined when the cluster has no `outlier_detection`. */
  readonly outlier: OutlierConfig | undefined;
  readonly http: HttpOptions;
  readonly tcpKeepaliveMs: number | undefined;
  readonly sourceAddress: string | undefined;
  readonly dns: DnsOptions | undefined;
  readonly originalDst: OriginalDstOptions | undefined;
  /** The decoded resource, for config_dump. */
  readonly resource: Proto;
}

export interface CompileContext {
  readonly lb: LbRegistry;
  readonly transportSockets: TransportSocketRegistry;
}

function discoveryType(c: Proto, problems: Problems): DiscoveryType {
  if (has(c, 'clusterType')) {
    const ct = message(c, 'clusterType', '', problems);
    problems.add('clusterType', `custom cluster type ${JSON.stringify(text(ct, 'name', 'clusterType', problems))} (${anyType(ct['typedConfig']) || 'no config'}) is not supported`);
  }
  return enumName(c, 'type', DISCOVERY_TYPES, '', problems);
}

function compileLimits(c: Proto, problems: Problems): CircuitBreakerLimits {
  const cb = message(c, 'circuitBreakers', '', problems);
  let limits = DEFAULT_LIMITS;
  list(cb, 'thresholds', 'circuitBreakers', problems).forEach((raw, i) => {
    const path = at(at('circuitBreakers', 'thresholds'), i);
    const t = obj(raw) ?? {};
    const priority = enumName(t, 'priority', ['DEFAULT', 'HIGH'], path, problems);
    const read = (key: string, fallback: number): number => u32(t, key, path, problems) ?? fallback;
    const parsed = {
      maxConnections: read('maxConnections', DEFAULT_LIMITS.maxConnections),
      maxPendingRequests: read('maxPendingRequests', DEFAULT_LIMITS.maxPendingRequests),
      maxRequests: read('maxRequests', DEFAULT_LIMITS.maxRequests),
      maxRetries: read('maxRetries', DEFAULT_LIMITS.maxRetries),
    };
    // The router asks for DEFAULT-priority admission; HIGH thresholds are validated and not used.
    if (priority === 'DEFAULT') limits = parsed;
  });
  return limits;
}

/** The policy from `load_balancing_policy`: the first entry whose type weft knows, as Envoy picks. */
function typedPolicy(c: Proto, type: DiscoveryType, ctx: CompileContext, problems: Problems): LbSpec | 'cluster-provided' | undefined {
  const lbp = message(c, 'loadBalancingPolicy', '', problems);
  const policies = list(lbp, 'policies', 'loadBalancingPolicy', problems);
  const seen: string[] = [];
  for (let i = 0; i < policies.length; i++) {
    const path = at(at('loadBalancingPolicy', 'policies'), i);
    const ext = message(obj(policies[i]) ?? {}, 'typedExtensionConfig', path, problems);
    const typed = obj(ext['typedConfig']) ?? {};
    const url = anyType(typed);
    seen.push(url);
    if (url === CLUSTER_PROVIDED_URL && type === 'ORIGINAL_DST') return 'cluster-provided';
    const policy = ctx.lb.byTypeUrl(url);
    if (policy !== undefined) {
      return { policy, config: policy.fromTyped(typed, at(at(path, 'typedExtensionConfig'), 'typedConfig'), problems) };
    }
  }
  problems.add('loadBalancingPolicy.policies', `no supported load balancing policy among ${JSON.stringify(seen)}`);
  return undefined;
}

function compileLb(c: Proto, type: DiscoveryType, ctx: CompileContext, problems: Problems): LbSpec | undefined {
  const name = enumName(c, 'lbPolicy', LB_POLICIES, '', problems);
  if (has(c, 'loadBalancingPolicy')) {
    const typed = typedPolicy(c, type, ctx, problems);
    if (type === 'ORIGINAL_DST' && typed !== 'cluster-provided') problems.add('loadBalancingPolicy', 'ORIGINAL_DST clusters need the CLUSTER_PROVIDED policy');
    return typed === 'cluster-provided' ? undefined : typed;
  }
  if (type === 'ORIGINAL_DST') {
    if (name !== 'CLUSTER_PROVIDED') problems.add('lbPolicy', `must be CLUSTER_PROVIDED for an ORIGINAL_DST cluster (got ${name})`);
    return undefined;
  }
  if (name === 'CLUSTER_PROVIDED') problems.add('lbPolicy', `CLUSTER_PROVIDED is only valid for ORIGINAL_DST clusters (this one is ${type})`);
  else if (name === 'LOAD_BALANCING_POLICY_CONFIG') problems.add('lbPolicy', 'LOAD_BALANCING_POLICY_CONFIG needs load_balancing_policy');
  else if (name === 'ORIGINAL_DST_LB') problems.add('lbPolicy', 'ORIGINAL_DST_LB was removed in v3 (use CLUSTER_PROVIDED)');
  const policy = ctx.lb.byName(name);
  if (policy === undefined) {
    if (!['CLUSTER_PROVIDED', 'LOAD_BALANCING_POLICY_CONFIG', 'ORIGINAL_DST_LB'].includes(name)) problems.add('lbPolicy', `unsupported load balancing policy ${name}`);
    return undefined;
  }
  return { policy, config: policy.fromCluster(c, problems) };
}

function compileOriginalDst(c: Proto, type: DiscoveryType, problems: Problems): OriginalDstOptions | undefined {
  const o = message(c, 'originalDstLbConfig', '', problems);
  if (type !== 'ORIGINAL_DST') {
    if (has(c, 'originalDstLbConfig')) problems.add('originalDstLbConfig', `only valid for ORIGINAL_DST clusters (this one is ${type})`);
    return undefined;
  }
  const path = 'originalDstLbConfig';
  if (has(o, 'metadataKey')) problems.add(at(path, 'metadataKey'), 'destinations from metadata are not supported');
  const portOverride = u32(o, 'upstreamPortOverride', path, problems);
  if (portOverride !== undefined && (portOverride < 1 || portOverride > 65535)) problems.add(at(path, 'upstreamPortOverride'), `must be a port in [1, 65535] (got ${portOverride})`);
  const cleanup = durationMs(c, 'cleanupInterval', '', problems) ?? 5000;
  if (cleanup <= 0) problems.add('cleanupInterval', 'must be greater than 0');
  return {
    useHttpHeader: bool(o, 'useHttpHeader', path, problems),
    headerName: (text(o, 'httpHeaderName', path, problems) || 'x-envoy-original-dst-host').toLowerCase(),
    portOverride,
    cleanupIntervalMs: cleanup > 0 ? cleanup : 5000,
  };
}

function compileEds(c: Proto, type: DiscoveryType, name: string, problems: Problems): string | undefined {
  if (!has(c, 'edsClusterConfig')) return type === 'EDS' ? name : undefined;
  if (type !== 'EDS') {
    problems.add('edsClusterConfig', `only valid for EDS clusters (this one is ${type})`);
    return undefined;
  }
  const eds = message(c, 'edsClusterConfig', '', problems);
  const source = message(eds, 'edsConfig', 'edsClusterConfig', problems);
  if (has(eds, 'edsConfig') && !has(source, 'ads') && !has(source, 'self')) {
    problems.add('edsClusterConfig.edsConfig', 'only ADS (ads or self) config sources are supported');
  }
  return text(eds, 'serviceName', 'edsClusterConfig', problems) || name;
}

function compileInlineEndpoints(c: Proto, type: DiscoveryType, problems: Problems): Assignment {
  const present = has(c, 'loadAssignment');
  if (type === 'EDS' || type === 'ORIGINAL_DST') {
    if (type === 'ORIGINAL_DST' && present && list(message(c, 'loadAssignment', '', problems), 'endpoints', 'loadAssignment', problems).length > 0) {
      problems.add('loadAssignment', 'ORIGINAL_DST clusters take no endpoints');
    }
    return EMPTY_ASSIGNMENT;
  }
  const a = compileAssignment(message(c, 'loadAssignment', '', problems), 'loadAssignment', problems, { requireIp: type === 'STATIC' });
  if (type === 'LOGICAL_DNS' && (a.groups.length !== 1 || a.groups[0]!.endpoints.length !== 1)) {
    problems.add('loadAssignment', 'LOGICAL_DNS clusters need exactly one locality with exactly one endpoint');
  }
  return a;
}

function checkUnsupported(c: Proto, problems: Problems): void {
  const subset = message(c, 'lbSubsetConfig', '', problems);
  if (list(subset, 'subsetSelectors', 'lbSubsetConfig', problems).length > 0) problems.add('lbSubsetConfig', 'subset load balancing is not supported');
  if (list(c, 'filters', '', problems).length > 0) problems.add('filters', 'upstream network filters are not supported');
}

function compileSourceAddress(c: Proto, problems: Problems): string | undefined {
  if (!has(c, 'upstreamBindConfig')) return undefined;
  const bind = message(c, 'upstreamBindConfig', '', problems);
  const sa = message(message(bind, 'sourceAddress', 'upstreamBindConfig', problems), 'socketAddress', 'upstreamBindConfig.sourceAddress', problems);
  const address = text(sa, 'address', 'upstreamBindConfig.sourceAddress.socketAddress', problems);
  if (isIP(address) === 0) problems.add('upstreamBindConfig.sourceAddress.socketAddress.address', `must be an IP address (got ${JSON.stringify(address)})`);
  return address || undefined;
}

function tcpKeepaliveMs(c: Proto, problems: Problems): number | undefined {
  const opts = message(c, 'upstreamConnectionOptions', '', problems);
  if (!has(opts, 'tcpKeepalive')) return undefined;
  const ka = message(opts, 'tcpKeepalive', 'upstreamConnectionOptions', problems);
  // Node sets only the idle time before the first probe; probes and interval keep the OS defaults.
  return (u32(ka, 'keepaliveTime', 'upstreamConnectionOptions.tcpKeepalive', problems) ?? 7200) * 1000;
}

export function compileCluster(c: Proto, ctx: CompileContext): { config: ClusterConfig; problems: string[] } {
  const problems = new Problems();
  const name = text(c, 'name', '', problems);
  if (name === '') problems.add('name', 'required');
  const type = discoveryType(c, problems);
  const connectTimeoutMs = durationMs(c, 'connectTimeout', '', problems) ?? 5000;
  if (connectTimeoutMs <= 0) problems.add('connectTimeout', 'must be greater than 0');
  const common = message(c, 'commonLbConfig', '', problems);
  const lb = compileLb(c, type, ctx, problems);
  checkUnsupported(c, problems);
  checkClusterTransportSockets(c, ctx.transportSockets, problems);
  const config: ClusterConfig = {
    name,
    statName: text(c, 'altStatName', '', problems) || name,
    type,
    connectTimeoutMs: connectTimeoutMs > 0 ? connectTimeoutMs : 5000,
    edsServiceName: compileEds(c, type, name, problems),
    assignment: compileInlineEndpoints(c, type, problems),
    lb,
    panicThreshold: percent(common, 'healthyPanicThreshold', 'commonLbConfig', problems) ?? 50,
    limits: compileLimits(c, problems),
    outlier: compileOutlierDetection(c, problems),
    http: compileHttpOptions(c, problems),
    tcpKeepaliveMs: tcpKeepaliveMs(c, problems),
    sourceAddress: compileSourceAddress(c, problems),
    dns: type === 'STRICT_DNS' || type === 'LOGICAL_DNS' ? compileDnsOptions(c, problems) : undefined,
    originalDst: compileOriginalDst(c, type, problems),
    resource: c,
  };
  return { config, problems: problems.list };
}
