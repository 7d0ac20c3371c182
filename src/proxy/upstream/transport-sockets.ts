/**
 * Upstream transport sockets, keyed by the type URL of their typed config, filled by
 * `registerBuiltinTransportSockets()`. Only plaintext (`raw_buffer`) exists until the security issue
 * brings TLS (`UpstreamTlsContext`); a cluster naming any other transport socket is rejected (NACK)
 * rather than silently sent in plaintext.
 */
import type { Problems, Proto } from './proto-read.ts';
import { anyType, at, has, list, message, obj, text } from './proto-read.ts';

export interface UpstreamTransportSocketFactory {
  readonly typeUrl: string;
  /** Problems in the typed config (empty when valid). */
  validate(config: Proto): string[];
}

export const RAW_BUFFER = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

export class TransportSocketRegistry {
  readonly #factories = new Map<string, UpstreamTransportSocketFactory>();

  register(factory: UpstreamTransportSocketFactory): void {
    if (this.#factories.has(factory.typeUrl)) throw new Error(`transport socket ${factory.typeUrl} is already registered`);
    this.#factories.set(factory.typeUrl, factory);
  }

  get(typeUrl: string): UpstreamTransportSocketFactory | undefined {
    return this.#factories.get(typeUrl);
  }
}

export function registerBuiltinTransportSockets(registry: TransportSocketRegistry): TransportSocketRegistry {
  registry.register({ typeUrl: RAW_BUFFER, validate: () => [] });
  return registry;
}

function checkSocket(ts: Proto, path: string, registry: TransportSocketRegistry, problems: Problems): void {
  const name = text(ts, 'name', path, problems);
  if (!has(ts, 'typedConfig')) {
    // A bare name selects the extension's default config; only raw_buffer has one here.
    if (name !== 'envoy.transport_sockets.raw_buffer' && name !== 'raw_buffer') problems.add(path, `unsupported transport socket ${JSON.stringify(name)}`);
    return;
  }
  const config = obj(ts['typedConfig']) ?? {};
  const type = anyType(config);
  const factory = registry.get(type);
  if (factory === undefined) {
    problems.add(at(path, 'typedConfig'), `unsupported transport socket ${JSON.stringify(type)}`);
    return;
  }
  for (const p of factory.validate(config)) problems.add(at(path, 'typedConfig'), p);
}

/** Checks a cluster's `transport_socket` and every `transport_socket_matches` entry. */
export function checkClusterTransportSockets(cluster: Proto, registry: TransportSocketRegistry, problems: Problems): void {
  if (has(cluster, 'transportSocket')) checkSocket(message(cluster, 'transportSocket', '', problems), 'transportSocket', registry, problems);
  list(cluster, 'transportSocketMatches', '', problems).forEach((raw, i) => {
    const path = at(at('', 'transportSocketMatches'), i);
    const m = obj(raw) ?? {};
    if (has(m, 'transportSocket')) checkSocket(message(m, 'transportSocket', path, problems), at(path, 'transportSocket'), registry, problems);
  });
}
