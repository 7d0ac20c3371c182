/**
 * The HTTP API's router: routes are `METHOD /literal/:param` patterns matched segment by segment;
 * handlers get the parsed request and return a `Reply` (or throw an `HttpError`). A path that exists
 * with another method is a 405 with `Allow`, anything else a 404, both as JSON errors.
 */
import type { IncomingMessage } from 'node:http';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  readonly raw: IncomingMessage;
  /** The request body as text (at most the server's body limit, else an `HttpError` 413). */
  body(): Promise<string>;
}

/** A response: JSON (pretty-printed by the server) or text with its content type. */
export type Reply =
  | { readonly status: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly text: string; readonly contentType: string; readonly headers?: Readonly<Record<string, string>> };

export type Handler = (req: ApiRequest) => Reply | Promise<Reply>;

/** An error that becomes `{error: message, code, ...details}` with `status`; `code` is stable for clients. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, opts: { details?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = opts.details ?? {};
    this.headers = opts.headers ?? {};
  }
}

interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: Handler;
}

export type Match =
  | { readonly handler: Handler; readonly params: Record<string, string> }
  | { readonly error: HttpError };

export class Router {
  readonly #routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.#routes.push({ method, segments: split(pattern), handler });
    return this;
  }

  match(method: string, path: string): Match {
    let segments: string[];
    try {
      segments = split(path).map(decodeURIComponent);
    } catch {
      return { error: new HttpError(400, 'BAD_PATH', `malformed percent-encoding in path ${JSON.stringify(path)}`) };
    }
    const allowed: string[] = [];
    for (const r of this.#routes) {
      const params = matchSegments(r.segments, segments);
      if (params === undefined) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { handler: r.handler, params };
      allowed.push(r.method);
    }
    if (allowed.length > 0) {
      return { error: new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`, { headers: { allow: allowed.join(', ') } }) };
    }
    return { error: new HttpError(404, 'NOT_FOUND', `no such endpoint: ${method} ${path}`) };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(pattern: readonly string[], path: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = path[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}
