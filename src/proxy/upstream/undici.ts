/**
 * The parts of undici the proxy runs on (Pool, the Dispatcher base class, the socket connector), each
 * loaded from its own module: undici's index also loads fetch, WebSocket, EventSource, the HTTP cache,
 * mocks and interceptors, several MB in every sidecar that uses none of them. The paths are undici's
 * internal layout, held stable by the exact version pinned in package.json; types come from undici's
 * public declarations.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export const DispatcherBase = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
