/**
 * The network filter registry: factories keyed by the message name of their typed config
 * (`envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`), so `type.googleapis.com/…` and other URL
 * prefixes find the same factory, as Envoy looks filters up by config type. Filled by `registerBuiltins`
 * (network/index.ts) and by the wiring for factories built elsewhere (the HTTP connection manager);
 * never by import side effects. One registry per proxy, so tests get fresh ones.
 */
import type { NetworkFilterFactory } from '../core/contracts.ts';
import { typeName } from './proto-read.ts';

export type NetworkErrorCode = 'NETWORK_FILTER_DUPLICATE';

/** A wiring mistake (never on the data path). */
export class NetworkError extends Error {
  readonly code: NetworkErrorCode;
  constructor(code: NetworkErrorCode, message: string) {
    super(message);
    this.name = 'NetworkError';
    this.code = code;
  }
}

export class NetworkFilterRegistry {
  readonly #factories = new Map<string, NetworkFilterFactory>();

  /** Adds a factory; a second factory for the same config type is a wiring error. */
  register(factory: NetworkFilterFactory): void {
    const key = typeName(factory.typeUrl);
    if (this.#factories.has(key)) throw new NetworkError('NETWORK_FILTER_DUPLICATE', `a network filter for ${key} is already registered`);
    this.#factories.set(key, factory);
  }

  /** The factory for a typed config's type URL, or undefined when none is registered. */
  get(typeUrl: string): NetworkFilterFactory | undefined {
    return this.#factories.get(typeName(typeUrl));
  }

  /** Registered config types (message names), for diagnostics. */
  types(): string[] {
    return [...this.#factories.keys()].sort();
  }
}
