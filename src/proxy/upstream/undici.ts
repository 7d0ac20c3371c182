/**
 * The parts of undici the proxy runs HTTP/2 upstreams on (Pool and the socket connector), loaded on
 * first use: a sidecar whose clusters all speak HTTP/1.1 (weft's own pool) never loads undici. Each part
 * comes from its own module: undici's index also loads fetch, WebSocket, EventSource, the HTTP cache,
 * mocks and interceptors, several MB that no sidecar uses. The paths are undici's internal layout, held
 * stable by the exact version pinned in package.json; types come from undici's public declarations.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

let pool: typeof Undici.Pool | undefined;
let connector: typeof Undici.buildConnector | undefined;

export function undiciPool(): typeof Undici.Pool {
  return (pool ??= require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool);
}

export function undiciConnector(): typeof Undici.buildConnector {
  return (connector ??= require('undici/lib/core/connect.js') as typeof Undici.buildConnector);
}
