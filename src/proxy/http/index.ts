/**
 * weft's HTTP layer for the proxy: the HTTP connection manager network filter, the HTTP filter registry
 * with its built-in filters (router, CORS, fault), and the RDS route store. Built-ins are registered by
 * `registerBuiltins()` — visibly, never as an import side effect.
 */
import { HttpFilterRegistry } from './filter.ts';
import { corsFilterFactory } from './filters/cors.ts';
import { faultFilterFactory } from './filters/fault.ts';
import { routerFilterFactory } from './filters/router-filter.ts';

export { HttpFilterRegistry, STOP, type HttpFilter, type HttpFilterFactory, type FilterContext, type Parsed } from './filter.ts';
export type { FilterStream, RequestHead, ResponseHead, ConnectionFacts } from './filter-stream.ts';
export { httpConnectionManagerFactory, HCM_TYPE, type HcmFactoryOptions } from './hcm-factory.ts';
export { RouteConfigStore, compileRoutes, wantRoutes } from './rds.ts';
export { StreamInfo, FLAG, formatFlags, type FlagName } from './stream-info.ts';
export { ERROR_HEADER, type LocalReply } from './local-reply.ts';
export { CORS_TYPE, CORS_POLICY_TYPE } from './filters/cors.ts';
export { FAULT_TYPE } from './filters/fault.ts';
export { ROUTER_TYPE } from './filters/router-filter.ts';

/** Adds the built-in HTTP filters: router, CORS, fault injection. */
export function registerBuiltins(registry: HttpFilterRegistry): HttpFilterRegistry {
  return registry.register(routerFilterFactory).register(corsFilterFactory).register(faultFilterFactory);
}

/** A registry holding just the built-ins. */
export function builtinFilters(): HttpFilterRegistry {
  return registerBuiltins(new HttpFilterRegistry());
}
