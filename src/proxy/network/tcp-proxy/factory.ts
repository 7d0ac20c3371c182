/**
 * The TCP proxy network filter factory (`envoy.filters.network.tcp_proxy`): the config is compiled
 * once per listener version; each accepted connection becomes a `TcpProxySession`. Draining changes
 * nothing for a byte stream: the listener closes what is left when its drain time ends.
 */
import type { NetworkFilter, NetworkFilterDeps, NetworkFilterFactory, Proto } from '../../core/contracts.ts';
import type { Stats } from '../../core/stats.ts';
import { compileTcpProxy, TCP_PROXY_TYPE_URL } from './config.ts';
import type { TcpProxyConfig } from './config.ts';
import { TcpProxySession } from './session.ts';
import type { TcpProxyStats } from './session.ts';

export interface TcpProxyFactoryOptions {
  /** Source of randomness in [0, 1) for weighted clusters (tests pass a fixed sequence). */
  readonly random?: () => number;
}

function tcpStats(stats: Stats, prefix: string): TcpProxyStats {
  const p = `tcp.${prefix}.`;
  return {
    downstreamCxTotal: stats.counter(`${p}downstream_cx_total`),
    noRoute: stats.counter(`${p}downstream_cx_no_route`),
    idleTimeout: stats.counter(`${p}idle_timeout`),
    maxDuration: stats.counter(`${p}max_downstream_connection_duration`),
    rxBytes: stats.counter(`${p}downstream_cx_rx_bytes_total`),
    txBytes: stats.counter(`${p}downstream_cx_tx_bytes_total`),
    flushTotal: stats.counter(`${p}upstream_flush_total`),
    flushActive: stats.gauge(`${p}upstream_flush_active`),
  };
}

class TcpProxyFilter implements NetworkFilter {
  readonly #config: TcpProxyConfig;
  readonly #deps: NetworkFilterDeps;
  readonly #stats: TcpProxyStats;
  readonly #random: () => number;

  constructor(config: TcpProxyConfig, deps: NetworkFilterDeps, random: () => number) {
    this.#config = config;
    this.#deps = deps;
    this.#stats = tcpStats(deps.stats, config.statPrefix);
    this.#random = random;
  }

  onConnection(info: Parameters<NetworkFilter['onConnection']>[0]): void {
    new TcpProxySession(info, this.#config, this.#stats, this.#random).start(this.#deps.clusters);
  }

  drain(): void {}
}

export function createTcpProxyFactory(options: TcpProxyFactoryOptions = {}): NetworkFilterFactory {
  const random = options.random ?? Math.random;
  return {
    typeUrl: TCP_PROXY_TYPE_URL,
    validate(config: Proto): string[] {
      const problems: string[] = [];
      compileTcpProxy(config, 'typedConfig', problems);
      return problems;
    },
    create(config: Proto, deps: NetworkFilterDeps): NetworkFilter {
      const problems: string[] = [];
      const compiled = compileTcpProxy(config, 'typedConfig', problems);
      if (problems.length > 0) throw new TypeError(`invalid TcpProxy config: ${problems.join('; ')}`);
      return new TcpProxyFilter(compiled, deps, random);
    },
  };
}
