/**
 * Listeners: the LDS handler (`ListenerManager`), filter-chain matching, listener filters (TLS and
 * HTTP inspectors, original destination) and their registry. See listener-manager.ts for the life of
 * a listener and listener-version.ts for the life of a connection.
 */
export { ListenerManager } from './listener-manager.ts';
export type { ListenerManagerOptions, ListenerState, ListenerStatus, ListenersDump } from './listener-manager.ts';
export { compileListener } from './compile-listener.ts';
export type { CompileContext, CompiledChain, CompiledListener, TrafficDirection } from './compile-listener.ts';
export { FilterChainMatcher } from './filter-chain-match.ts';
export type { ConnectionFacts, MatcherEntry } from './filter-chain-match.ts';
export { ListenerError, ListenerFilterRegistry, compilePredicate } from './listener-filter.ts';
export type { InspectResult, InspectState, ListenerFilter, ListenerFilterFactory, ListenerErrorCode } from './listener-filter.ts';
export { registerBuiltinListenerFilters } from './builtins.ts';
export type { ListenerFilterBuiltinsOptions } from './builtins.ts';
export { TLS_INSPECTOR_TYPE_URL } from './tls-inspector.ts';
export { HTTP_INSPECTOR_TYPE_URL, detectHttp } from './http-inspector.ts';
export { ORIGINAL_DST_TYPE_URL } from './original-dst.ts';
export type { OriginalDestinationResolver } from './original-dst.ts';
export { parseClientHello } from './client-hello.ts';
export { replayPreread } from './replay.ts';
