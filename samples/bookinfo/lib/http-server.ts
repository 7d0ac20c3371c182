/**
 * The HTTP side every bookinfo app shares: a small router (exact paths and patterns, 404/405), the
 * `/health` endpoint Istio's apps serve, JSON/HTML/redirect replies, the access log line, listening
 * on `127.0.0.1:<port>` with the "listening" line `weft run` and tests wait for, and a clean exit on
 * SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { logError, logLine, logRequest } from './log.ts';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Capture groups of the route's pattern (empty for exact paths). */
  readonly params: readonly string[];
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** An exact path, or a pattern matched against the whole path. */
  readonly path: string | RegExp;
  readonly handle: (ctx: RequestContext) => void | Promise<void>;
}

export interface AppOptions {
  /** The app's name in log lines: `reviews listening on 127.0.0.1:9080`. */
  readonly name: string;
  /** The subject of the health message, as Istio's apps word it: `Reviews is healthy`. */
  readonly healthName: string;
  readonly port: number;
  readonly routes: readonly Route[];
  /** Called once the server has closed, before the process exits (close pools, timers). */
  readonly onClose?: () => void;
}

/**
 * How long in-flight requests may run after SIGTERM/SIGINT before their connections are cut: less than
 * the 5 s `weft run` (like Kubernetes' grace period) waits before SIGKILL, so the app always gets to
 * say what it cut.
 */
const SHUTDOWN_GRACE_MS = 4000;

/**
 * Idle keep-alive connections stay open this long. A proxy in front reuses pooled connections; if
 * the app closed them first (Node's default is 5 s) the proxy could send a request into a closing
 * socket and see a reset.
 */
const KEEP_ALIVE_TIMEOUT_MS = 60_000;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

export function redirect(res: ServerResponse, location: string, setCookie?: string): void {
  res.writeHead(302, { location, 'content-length': 0, ...(setCookie === undefined ? {} : { 'set-cookie': setCookie }) });
  res.end();
}

/** The request body as text, refusing bodies over `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) req.destroy(new Error(`request body over ${limit} bytes`));
      else chunks.push(chunk);
    });
    req.once('error', reject);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function splitTarget(target: string): { path: string; query: URLSearchParams } {
  // An absolute-form target (a client talking to us as to a proxy) still routes by its path.
  let relative = target;
  if (!target.startsWith('/')) {
    const url = URL.parse(target);
    relative = url === null ? '/' : url.pathname + url.search;
  }
  const q = relative.indexOf('?');
  if (q < 0) return { path: relative, query: new URLSearchParams() };
  return { path: relative.slice(0, q), query: new URLSearchParams(relative.slice(q + 1)) };
}

function findRoute(routes: readonly Route[], method: string, path: string): { route?: Route; params: string[]; allowed: string[] } {
  const allowed: string[] = [];
  const effective = method === 'HEAD' ? 'GET' : method;
  for (const route of routes) {
    let params: string[] | undefined;
    if (typeof route.path === 'string') params = route.path === path ? [] : undefined;
    else params = route.path.exec(path)?.slice(1).map((p) => p ?? '');
    if (params === undefined) continue;
    if (route.method === effective) return { route, params, allowed };
    allowed.push(route.method);
  }
  return { params: [], allowed };
}

async function dispatch(routes: readonly Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { path, query } = splitTarget(req.url ?? '/');
  const { route, params, allowed } = findRoute(routes, req.method ?? 'GET', path);
  if (route === undefined) {
    if (allowed.length > 0) res.setHeader('allow', allowed.join(', '));
    sendJson(res, allowed.length > 0 ? 405 : 404, { error: allowed.length > 0 ? 'method not allowed' : 'not found' });
    return;
  }
  try {
    await route.handle({ req, res, path, query, params });
  } catch (err) {
    logError(`${req.method} ${path}: handler failed: ${(err as Error).stack ?? String(err)}`);
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    else res.destroy();
  }
}

/** Responses not yet sent (with their request line and start), so a shutdown can make them the last on their connections. */
const unanswered = new Map<ServerResponse, string>();
/** Set at SIGTERM: every response from then on closes its connection. */
let stopping = false;
/** Open connections, and those with a request in progress. */
const sockets = new Set<Socket>();
const busy = new WeakMap<Socket, number>();

function installShutdown(server: Server, name: string, onClose: (() => void) | undefined): void {
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logLine(`${name} stopping (${signal})`);
    // Node's server.close() waits for every connection, and a request in flight leaves its keep-alive
    // connection open after the answer: answer it with `connection: close` so the proxy's pool closes it.
    // Requests still arriving (a draining sidecar keeps serving its open connections) get the same.
    for (const res of unanswered.keys()) if (!res.headersSent) res.shouldKeepAlive = false;
    server.close(() => {
      onClose?.();
      process.exit(0);
    });
    // Node's closeIdleConnections() skips a connection that has not sent a request yet (a proxy's pool
    // may hold one it opened for a request that went elsewhere): that too would hold server.close().
    server.closeIdleConnections();
    for (const socket of sockets) if ((busy.get(socket) ?? 0) === 0) socket.destroy();
    setTimeout(() => {
      const open = [...unanswered.values()];
      logError(`${name}: ${open.length} request(s) still in flight ${SHUTDOWN_GRACE_MS} ms after ${signal}${open.length > 0 ? `: ${open.join(', ')}` : ' (an idle connection held the server)'}; closing every connection`);
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Starts the app's server; logs `<name> listening on 127.0.0.1:<port>` once it accepts connections. */
export function startApp(options: AppOptions): Server {
  const health: Route = {
    method: 'GET',
    path: '/health',
    handle: ({ res }) => sendJson(res, 200, { status: `${options.healthName} is healthy` }),
  };
  const routes = [health, ...options.routes];
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
    const start = performance.now();
    if (stopping) res.shouldKeepAlive = false;
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once('close', () => busy.set(socket, (busy.get(socket) ?? 1) - 1));
    unanswered.set(res, `${req.method} ${req.url} since ${new Date().toISOString()}`);
    res.once('close', () => unanswered.delete(res));
    res.once('close', () => logRequest(req.method ?? '-', req.url ?? '-', res.statusCode, performance.now() - start, !res.writableFinished));
    void dispatch(routes, req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('error', (err) => {
    logError(`${options.name}: cannot listen on 127.0.0.1:${options.port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(options.port, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    logLine(`${options.name} listening on 127.0.0.1:${port}`);
  });
  installShutdown(server, options.name, options.onClose);
  return server;
}

/** Runs `main`, turning a start-up error (a bad environment variable) into one line and exit 1. */
export function runMain(name: string, main: () => void): void {
  try {
    main();
  } catch (err) {
    logError(`${name}: ${(err as Error).message}`);
    process.exit(1);
  }
}
