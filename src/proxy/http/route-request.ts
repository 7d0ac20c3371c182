/**
 * A stream's request as route selection reads it (`RouteRequest` of the routing module): one small object
 * per selection, reading the stream's live headers (so filters that changed headers and cleared the route
 * cache are routed on what they wrote). The scheme is `x-forwarded-proto`, as Envoy's router reads it.
 */
import type { ConnectionFacts, RequestHead } from './filter-stream.ts';
import { firstValue, joinedValue } from './headers.ts';
import type { RequestHeaders, RouteRequest } from './router/types.ts';

export class RouteRequestView implements RouteRequest, RequestHeaders {
  readonly method: string;
  readonly authority: string | undefined;
  readonly scheme: string;
  readonly path: string | undefined;
  readonly headers: RequestHeaders;
  readonly random = Math.random;
  readonly tls: { readonly presented: boolean; readonly validated: boolean } | undefined;
  readonly sourceAddress: string;
  readonly #request: RequestHead;

  constructor(stream: { readonly request: RequestHead; readonly connection: ConnectionFacts }) {
    const r = stream.request;
    this.#request = r;
    this.method = r.method;
    this.authority = r.authority === '' ? undefined : r.authority;
    this.scheme = firstValue(r.headers, 'x-forwarded-proto') ?? r.scheme;
    this.path = r.path === '' ? undefined : r.path;
    this.headers = this;
    // Client certificates arrive with the security issue; until then a TLS peer presented none.
    this.tls = stream.connection.tls ? { presented: false, validated: false } : undefined;
    this.sourceAddress = stream.connection.remoteAddress;
  }

  get(name: string): string | undefined {
    return joinedValue(this.#request.headers, name);
  }

  values(name: string): string | readonly string[] | undefined {
    return this.#request.headers[name];
  }
}
