/**
 * The stream as HTTP filters see it: the request head (mutable until the router forwards it), the
 * connection it came on, the selected route's per-filter configs, and how to answer locally. The
 * connection manager's `ActiveStream` implements it; filter unit tests use small fakes.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { HeaderMap } from './headers.ts';
import type { LocalReply } from './local-reply.ts';
import type { HttpProtocol, StreamInfo } from './stream-info.ts';

export interface RequestHead {
  readonly method: string;
  /** `:authority` (Host, or the authority of an absolute-form or CONNECT target). */
  authority: string;
  /** Origin-form path with query (`/a?b`); empty for CONNECT. */
  path: string;
  readonly scheme: 'http' | 'https';
  readonly protocol: HttpProtocol;
  /** Lowercase request headers; HTTP/2 pseudo-headers may be present and are never forwarded. */
  readonly headers: HeaderMap;
}

export interface ResponseHead {
  status: number;
  readonly headers: OutgoingHttpHeaders;
}

export interface ConnectionFacts {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly tls: boolean;
}

export interface FilterStream {
  readonly request: RequestHead;
  readonly info: StreamInfo;
  readonly connection: ConnectionFacts;
  /** `content-type: application/grpc…`: local replies become trailers-only gRPC responses. */
  readonly isGrpc: boolean;
  /** The selected route's cluster (after weighted choice), or undefined without a routed cluster. */
  routeCluster(): string | undefined;
  /**
   * The parsed per-route config for the filter named `filterName` (most specific of weighted cluster,
   * route, virtual host, route configuration), or undefined.
   */
  perRouteConfig<R>(filterName: string): R | undefined;
  /** Forget the selected route: a filter that changed what routing reads (headers, path) calls it. */
  clearRouteCache(): void;
  /** Answers the request locally (through the encode hooks of the filters before the caller). */
  sendLocalReply(reply: LocalReply): void;
  /** Whether the stream is over (answered, reset or the client went away): paused filters must not resume it. */
  readonly done: boolean;
}
