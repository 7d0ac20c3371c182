/**
 * HTTP route translation: VirtualService HTTP routes → Envoy routes. The route configuration generator
 * builds a `RouteContext` per route configuration and calls these.
 */
export { httpRoutes } from './http-routes.ts';
export { defaultRoute, DEFAULT_ROUTE_NAME } from './default-route.ts';
export { BLACKHOLE_CLUSTER } from './terminal.ts';
export { CORS_FILTER } from './cors.ts';
export { FAULT_FILTER } from './fault.ts';
export { ERROR_HEADER } from './envoy-values.ts';
export type { EnvoyRoute, RouteContext, VirtualServiceResource } from './context.ts';
