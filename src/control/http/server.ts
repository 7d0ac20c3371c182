/**
 * The control plane's HTTP API (default 127.0.0.1:15014): config (`/apply`, `/delete`, `/resources`),
 * `/ready`, `/metrics` and `/debug/*`. Every response is JSON (pretty-printed) except `/metrics`; every
 * error is `{error, code}` with its status. It has no authentication: it listens on loopback by default.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, Router, type ApiRequest, type Reply } from './router.ts';
import { registerResourceRoutes } from './resources.ts';
import { registerDebugRoutes, type DebugSources } from './debug.ts';

export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:15014';
const MiB = 1024 * 1024;

export interface HttpApiOptions extends DebugSources {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 15014; 0 picks a free port. */
  readonly port?: number;
  /** Largest request body accepted (default 16 MiB); larger ones get 413. */
  readonly bodyLimit?: number;
  readonly log?: (line: string) => void;
}

export interface HttpApi {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** The HTTP API could not listen; `code` is the system error (`EADDRINUSE`…). */
export class HttpListenError extends Error {
  readonly code: string;
  constructor(address: string, cause: NodeJS.ErrnoException) {
    super(`cannot listen on ${address} for the HTTP API: ${cause.code === 'EADDRINUSE' ? 'address already in use' : cause.message}`, { cause });
    this.name = 'HttpListenError';
    this.code = cause.code ?? 'LISTEN_FAILED';
  }
}

export async function startHttpApi(opts: HttpApiOptions): Promise<HttpApi> {
  const router = new Router();
  registerResourceRoutes(router, opts.config);
  registerDebugRoutes(router, opts);
  const limit = opts.bodyLimit ?? 16 * MiB;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const server = createServer((req, res) => {
    handle(router, req, res, limit).catch((e: unknown) => {
      log(`http: ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) send(res, { status: 500, json: { error: `internal error: ${(e as Error).message}`, code: 'INTERNAL' } });
      else res.destroy();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new HttpListenError(`${host}:${opts.port ?? 15014}`, e)));
    server.listen(opts.port ?? 15014, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `http://${urlHost}:${port}`,
    server,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function handle(router: Router, req: IncomingMessage, res: ServerResponse, limit: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://weft');
  const method = req.method ?? 'GET';
  const match = router.match(method, url.pathname);
  let reply: Reply;
  try {
    if ('error' in match) throw match.error;
    const request: ApiRequest = { method, path: url.pathname, query: url.searchParams, params: match.params, raw: req, body: () => readBody(req, limit) };
    reply = await match.handler(request);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    reply = { status: e.status, json: { error: e.message, code: e.code, ...e.details }, headers: e.headers };
  }
  send(res, reply, method === 'HEAD');
}

function send(res: ServerResponse, reply: Reply, headOnly = false): void {
  const body = 'json' in reply ? `${JSON.stringify(reply.json, null, 2)}\n` : reply.text;
  const type = 'json' in reply ? 'application/json; charset=utf-8' : reply.contentType;
  res.writeHead(reply.status, { ...reply.headers, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}

/** Reads the body as UTF-8, refusing (413) more than `limit` bytes, by declared length or as it arrives. */
async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new HttpError(413, 'BODY_TOO_LARGE', `request body is larger than ${formatBytes(limit)}`, { headers: { connection: 'close' } });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function formatBytes(n: number): string {
  return n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}
