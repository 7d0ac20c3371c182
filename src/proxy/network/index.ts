/**
 * Network filters: the registry keyed by typed-config type and the built-in filters. The HTTP
 * connection manager is built in `src/proxy/http/` and registered into the same registry by the
 * proxy's wiring (it needs the HTTP filter registry and route store, which this folder does not own).
 */
import { NetworkFilterRegistry } from './registry.ts';
import { createTcpProxyFactory } from './tcp-proxy/factory.ts';
import type { TcpProxyFactoryOptions } from './tcp-proxy/factory.ts';

export { NetworkFilterRegistry, NetworkError } from './registry.ts';
export type { NetworkErrorCode } from './registry.ts';
export { createTcpProxyFactory } from './tcp-proxy/factory.ts';
export type { TcpProxyFactoryOptions } from './tcp-proxy/factory.ts';
export { TCP_PROXY_TYPE_URL } from './tcp-proxy/config.ts';
export { sessionChannel as tcpSessionChannel } from './tcp-proxy/session.ts';
export type { TcpSessionEnd } from './tcp-proxy/session.ts';

export interface NetworkBuiltinsOptions {
  readonly tcpProxy?: TcpProxyFactoryOptions;
}

/** Registers every built-in network filter: today the TCP proxy (`envoy.filters.network.tcp_proxy`). */
export function registerBuiltins(registry: NetworkFilterRegistry, options: NetworkBuiltinsOptions = {}): NetworkFilterRegistry {
  registry.register(createTcpProxyFactory(options.tcpProxy));
  return registry;
}
