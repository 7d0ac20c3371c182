/**
 * The TCP proxy's typed config (`envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`), validated
 * and compiled once per listener version into what a session needs: the clusters with cumulative
 * weights, timeouts in milliseconds, connect attempts, the hash policy. Fields weft cannot honour and
 * that change behaviour (tunnelling over HTTP, on-demand CDS, metadata matches) are problems; access
 * logging fields are accepted and wait for the telemetry work.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto
 */
import type { Proto } from '../../core/contracts.ts';
import { FILTER_TYPE } from '../../../xds/type-urls.ts';
import { durationMs, integer, message, messages, problem, string, uintValue, unsupported } from '../proto-read.ts';
import type { Problems } from '../proto-read.ts';

export const TCP_PROXY_TYPE_URL = FILTER_TYPE.tcpProxy;

/** Envoy's default idle timeout for TCP proxy connections: one hour. */
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

export interface TcpProxyConfig {
  readonly statPrefix: string;
  /** Target clusters; one entry for `cluster`. */
  readonly clusters: readonly string[];
  /** Cumulative weights aligned with `clusters` (last = total). */
  readonly cumulative: readonly number[];
  /** 0 disables the idle timeout. */
  readonly idleTimeoutMs: number;
  readonly maxConnectAttempts: number;
  /** 0: no limit on a connection's lifetime. */
  readonly maxDurationMs: number;
  /** Hash the downstream source IP for RING_HASH/MAGLEV clusters (`hash_policy: [{source_ip: {}}]`). */
  readonly hashSourceIp: boolean;
}

function weightedClusters(wc: Proto, path: string, problems: Problems): { clusters: string[]; cumulative: number[] } {
  const clusters: string[] = [];
  const cumulative: number[] = [];
  const entries = messages(wc, 'clusters', path, problems);
  if (entries.length === 0) problem(problems, `${path}.clusters`, 'at least one cluster is required');
  let total = 0;
  entries.forEach((c, i) => {
    const p = `${path}.clusters[${i}]`;
    const name = string(c, 'name', p, problems);
    if (name === '') problem(problems, `${p}.name`, 'must not be empty');
    const weight = integer(c, 'weight', p, problems);
    if (weight < 1) problem(problems, `${p}.weight`, 'must be at least 1', weight);
    unsupported(c, ['metadataMatch'], p, problems, 'subset selection by metadata is not supported by weft');
    total += Math.max(weight, 0);
    clusters.push(name);
    cumulative.push(total);
  });
  if (total > 0xffffffff) problem(problems, `${path}.clusters`, 'the sum of weights must fit in 32 bits', total);
  return { clusters, cumulative };
}

function hashSourceIp(config: Proto, path: string, problems: Problems): boolean {
  const policies = messages(config, 'hashPolicy', path, problems);
  if (policies.length > 1) problem(problems, `${path}.hashPolicy`, 'at most one hash policy is allowed', policies.length);
  const first = policies[0];
  if (first === undefined) return false;
  if (message(first, 'sourceIp', `${path}.hashPolicy[0]`, problems) !== undefined) return true;
  problem(problems, `${path}.hashPolicy[0]`, 'only source_ip hashing is supported by weft', first);
  return false;
}

/** Validates and compiles a TcpProxy config; every problem goes to `problems` (path relative to `path`). */
export function compileTcpProxy(config: Proto, path: string, problems: Problems): TcpProxyConfig {
  const statPrefix = string(config, 'statPrefix', path, problems);
  if (statPrefix === '') problem(problems, `${path}.statPrefix`, 'must not be empty');
  const cluster = string(config, 'cluster', path, problems);
  const wc = message(config, 'weightedClusters', path, problems);
  let clusters: string[] = [];
  let cumulative: number[] = [];
  if (cluster !== '' && wc !== undefined) problem(problems, path, 'set only one of cluster and weightedClusters');
  if (wc !== undefined) ({ clusters, cumulative } = weightedClusters(wc, `${path}.weightedClusters`, problems));
  else if (cluster !== '') [clusters, cumulative] = [[cluster], [1]];
  else problem(problems, path, 'one of cluster or weightedClusters is required');

  const idle = durationMs(config, 'idleTimeout', path, problems);
  const attempts = uintValue(config, 'maxConnectAttempts', path, problems);
  if (attempts !== undefined && attempts < 1) problem(problems, `${path}.maxConnectAttempts`, 'must be at least 1', attempts);
  const maxDuration = durationMs(config, 'maxDownstreamConnectionDuration', path, problems);
  if (maxDuration !== undefined && maxDuration < 1) problem(problems, `${path}.maxDownstreamConnectionDuration`, 'must be at least 1ms', maxDuration);
  unsupported(config, ['tunnelingConfig', 'onDemand'], path, problems);
  unsupported(config, ['metadataMatch'], path, problems, 'subset selection by metadata is not supported by weft');
  return {
    statPrefix,
    clusters,
    cumulative,
    idleTimeoutMs: idle ?? DEFAULT_IDLE_TIMEOUT_MS,
    maxConnectAttempts: Math.max(attempts ?? 1, 1),
    maxDurationMs: maxDuration ?? 0,
    hashSourceIp: hashSourceIp(config, path, problems),
  };
}

/** The cluster for a new connection: weighted by `cumulative`, with `random` in [0, 1). */
export function pickCluster(config: TcpProxyConfig, random: () => number): string {
  const { clusters, cumulative } = config;
  if (clusters.length === 1) return clusters[0]!;
  const total = cumulative[cumulative.length - 1] ?? 0;
  const r = Math.floor(random() * total);
  for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return clusters[i]!;
  return clusters[clusters.length - 1]!;
}
