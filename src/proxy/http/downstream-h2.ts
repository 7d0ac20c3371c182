/**
 * HTTP/2 downstream exchanges over node:http2's core stream API (no compat layer: fewer allocations, and
 * direct control of END_STREAM on headers, which trailers-only gRPC replies need). Plain CONNECT and
 * extended CONNECT (RFC 8441, `:protocol`) tunnel over the stream itself.
 */
import { constants, type IncomingHttpHeaders as H2Headers, type ServerHttp2Stream } from 'node:http2';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Downstream, DownstreamListener } from './downstream.ts';
import type { HeaderMap } from './headers.ts';
import type { HttpProtocol } from './stream-info.ts';

function noop(): void {}

export class H2Downstream implements Downstream {
  readonly protocol: HttpProtocol = 'HTTP/2';
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly absoluteForm = false;
  readonly headers: HeaderMap;
  readonly headerCount: number;
  readonly upgrade: string | undefined;
  readonly connect: boolean;
  readonly hasBody: boolean;
  readonly body: ServerHttp2Stream;
  readonly #stream: ServerHttp2Stream;
  #headersSent = false;
  #wantTrailers = false;
  #trailers: OutgoingHttpHeaders | undefined;
  #closed = false;
  #aborted = false;
  #listener: DownstreamListener | undefined;

  constructor(stream: ServerHttp2Stream, headers: H2Headers, rawHeaderCount: number) {
    this.#stream = stream;
    this.body = stream;
    this.headers = headers as HeaderMap;
    const method = headers[':method'] ?? 'GET';
    const protocol = headers[':protocol'];
    this.connect = method === 'CONNECT' && protocol === undefined;
    this.upgrade = typeof protocol === 'string' ? protocol.toLowerCase() : undefined;
    // Extended CONNECT is routed as the HTTP/1.1 upgrade it stands for (Envoy's H2→H1 upgrade transform).
    this.method = this.upgrade !== undefined && method === 'CONNECT' ? 'GET' : method;
    if (this.upgrade !== undefined) this.headers['upgrade'] = this.upgrade;
    this.authority = headers[':authority'] ?? (typeof headers.host === 'string' ? headers.host : '');
    this.path = this.connect ? '' : (headers[':path'] ?? '');
    this.headerCount = rawHeaderCount;
    this.hasBody = !stream.endAfterHeaders && !this.connect && this.upgrade === undefined;
    stream.on('error', noop);
    stream.once('close', () => this.#finish());
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    const stream = this.#stream;
    if (!stream.writableFinished || stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
      this.#aborted = true;
      this.#listener?.downstreamAborted();
    }
    this.#listener?.downstreamClosed();
    // 'close' is a stream's last event. A closed stream lives on until a full GC (node:http2 keeps its
    // native handle weakly, and V8's young-generation GC never frees such objects): without the listeners
    // that lead back to this exchange (request body, drain, trailers, tunnel), the exchange dies young
    // instead of being promoted with it. This listener's own 'close' emission already has its copy.
    stream.removeAllListeners();
    stream.on('error', noop);
    this.#listener = undefined;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get closed(): boolean {
    return this.#closed;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders, endStream: boolean): void {
    if (this.#closed || this.#headersSent) return;
    this.#headersSent = true;
    headers[':status'] = status;
    const waitForTrailers = this.#wantTrailers && !endStream;
    try {
      this.#stream.respond(headers, { endStream, waitForTrailers });
      if (waitForTrailers) this.#stream.once('wantTrailers', () => this.#sendTrailers());
    } catch {
      this.reset();
    }
  }

  #sendTrailers(): void {
    try {
      this.#stream.sendTrailers(this.#trailers ?? {});
    } catch {
      this.reset();
    }
  }

  expectTrailers(): void {
    this.#wantTrailers = true;
  }

  write(chunk: Buffer): boolean {
    if (this.#closed) return true;
    return this.#stream.write(chunk);
  }

  end(trailers?: OutgoingHttpHeaders): void {
    if (this.#closed) return;
    this.#trailers = trailers;
    this.#stream.end();
  }

  onDrain(cb: () => void): void {
    this.#stream.once('drain', cb);
  }

  attach(listener: DownstreamListener): void {
    this.#listener = listener;
    if (this.#aborted) listener.downstreamAborted();
    if (this.#closed) listener.downstreamClosed();
  }

  reset(): void {
    try {
      if (!this.#stream.destroyed) this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    } catch {
      this.#stream.destroy();
    }
  }

  tunnel(status: number, headers: OutgoingHttpHeaders): Duplex | undefined {
    if (this.#closed || this.#headersSent) return undefined;
    // An HTTP/2 tunnel is accepted with 200 whatever the upstream said (101 does not exist in HTTP/2).
    this.writeHead(status === 101 ? 200 : status, headers, false);
    return this.#closed ? undefined : this.#stream;
  }
}
