/**
 * Node built-ins the proxy takes as CommonJS objects instead of ES namespaces. An
 * `import … from 'node:http'` builds a namespace of every export, and reading `http.WebSocket`,
 * `CloseEvent` and `MessageEvent` loads Node's bundled undici and WebSocket code: ~14 MB of RSS in
 * every sidecar, which never uses them (the proxy's own undici is the npm package); `node:crypto`'s
 * namespace likewise loads WebCrypto. Types still come from `import type`, which is erased.
 */
export const http: typeof import('node:http') = process.getBuiltinModule('node:http');
export const crypto: typeof import('node:crypto') = process.getBuiltinModule('node:crypto');
