/**
 * The built-in listener filters, registered visibly (never by import side effects): TLS inspector,
 * HTTP inspector, original destination (local mode unless a resolver for SO_ORIGINAL_DST is given).
 */
import { httpInspectorFactory } from './http-inspector.ts';
import type { ListenerFilterRegistry } from './listener-filter.ts';
import { createOriginalDstFactory } from './original-dst.ts';
import type { OriginalDestinationResolver } from './original-dst.ts';
import { tlsInspectorFactory } from './tls-inspector.ts';

export interface ListenerFilterBuiltinsOptions {
  /** Where original destinations come from; default: none (the socket's local address stands). */
  readonly originalDestination?: OriginalDestinationResolver;
}

export function registerBuiltinListenerFilters(registry: ListenerFilterRegistry, options: ListenerFilterBuiltinsOptions = {}): ListenerFilterRegistry {
  registry.register(tlsInspectorFactory);
  registry.register(httpInspectorFactory);
  registry.register(createOriginalDstFactory(options.originalDestination));
  return registry;
}
