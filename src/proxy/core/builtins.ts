/**
 * Node built-ins the proxy takes as CommonJS objects instead of ES namespaces. An
 * `import … from 'node:http'` builds a namespace of every export, and reading `http.WebSocket`,
 * `CloseEvent` and `MessageEvent` loads Node's bundled undici and WebSocket code: ~14 MB of RSS in
 * every sidecar, which never uses them. Types still come from `import type`, which is erased.
 * (node:crypto, whose namespace likewise loads WebCrypto, the proxy does not load at all: core/random.ts.)
 */
export const http: typeof import('node:http') = process.getBuiltinModule('node:http');
