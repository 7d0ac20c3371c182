/**
 * The HTTP API's public entry: `startHttpApi({config, registry, ready, metrics, syncz, configDump})`.
 */
export { startHttpApi, HttpListenError, DEFAULT_HTTP_ADDRESS, type HttpApi, type HttpApiOptions } from './server.ts';
export type { DebugSources } from './debug.ts';
export type { ConfigApi } from './resources.ts';
export { HttpError } from './router.ts';
