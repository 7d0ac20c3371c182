/**
 * A fake FilterStream for HTTP filter unit tests: a request head, per-route configs by filter name, the
 * routed cluster, and the local replies the filter sent.
 */
import type { FilterStream } from '../filter-stream.ts';
import type { HeaderMap } from '../headers.ts';
import type { LocalReply } from '../local-reply.ts';
import { StreamInfo } from '../stream-info.ts';

export interface FakeStream extends FilterStream {
  readonly replies: LocalReply[];
}

export function fakeStream(o: { method?: string; headers?: HeaderMap; perRoute?: Record<string, unknown>; cluster?: string; grpc?: boolean } = {}): FakeStream {
  const replies: LocalReply[] = [];
  return {
    request: { method: o.method ?? 'GET', authority: 'svc', path: '/', scheme: 'http', protocol: 'HTTP/1.1', headers: o.headers ?? {} },
    info: new StreamInfo(),
    connection: { remoteAddress: '10.0.0.1', remotePort: 1000, localAddress: '10.0.0.2', localPort: 80, tls: false },
    isGrpc: o.grpc === true,
    routeCluster: () => o.cluster,
    clearRouteCache: () => {},
    perRouteConfig: <R>(name: string) => o.perRoute?.[name] as R | undefined,
    sendLocalReply(r: LocalReply) {
      replies.push(r);
    },
    get done() {
      return replies.length > 0;
    },
    replies,
  };
}
