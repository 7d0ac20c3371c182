/**
 * HTTP/1.x downstream exchanges over node:http's strict parser (llhttp: rejects CL+TE, bad chunking,
 * invalid header characters). Two shapes: ordinary requests (`IncomingMessage` + `ServerResponse`), and
 * requests node hands over with the raw socket (`Upgrade` and `CONNECT`), where a `ServerResponse`
 * assigned to the socket serves local replies and `tunnel()` writes the 101/200 head itself.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { http } from '../core/builtins.ts';
import { splitAbsoluteForm, type Downstream, type DownstreamListener } from './downstream.ts';
import { firstValue, type HeaderMap } from './headers.ts';
import type { HttpProtocol } from './stream-info.ts';

/** The codec state shared by all exchanges on one connection. */
export interface H1ConnectionState {
  /** Close the connection after the current response (draining, max requests, max duration). */
  closeAfterResponse: boolean;
}

const DOWNSTREAM = Symbol('weft.downstream');
type TaggedResponse = ServerResponse & { [DOWNSTREAM]?: H1Downstream };

export class H1Downstream implements Downstream {
  readonly protocol: HttpProtocol;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly absoluteForm: boolean;
  readonly headers: HeaderMap;
  readonly headerCount: number;
  readonly upgrade: string | undefined;
  readonly connect: boolean;
  readonly hasBody: boolean;
  readonly body: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #conn: H1ConnectionState;
  /** The connection's last request (max_requests_per_connection): its response closes the connection. */
  readonly #last: boolean;
  /** Set for upgrade/CONNECT exchanges: the raw socket and bytes read past the head. */
  readonly #socket: Socket | undefined;
  readonly #head: Buffer | undefined;
  #closed = false;
  #aborted = false;
  #listener: DownstreamListener | undefined;

  /** The response's 'close' and 'error' listener: one function for every response, finding its exchange by a tag. */
  static readonly #onResponseEnd = function (this: TaggedResponse): void {
    const down = this[DOWNSTREAM];
    if (down !== undefined) down.#finish();
  };

  constructor(req: IncomingMessage, res: ServerResponse | undefined, conn: H1ConnectionState, last: boolean, raw?: { socket: Socket; head: Buffer }) {
    this.#last = last;
    this.protocol = req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    this.method = req.method ?? 'GET';
    this.headers = req.headers;
    this.headerCount = req.rawHeaders.length >>> 1;
    this.body = req;
    this.#conn = conn;
    this.#socket = raw?.socket;
    this.#head = raw?.head;
    const url = req.url ?? '/';
    this.connect = this.method === 'CONNECT';
    const abs = this.connect ? undefined : splitAbsoluteForm(url);
    this.absoluteForm = abs !== undefined;
    this.authority = this.connect ? url : (abs?.authority ?? firstValue(req.headers, 'host') ?? '');
    this.path = this.connect ? '' : (abs?.path ?? url);
    this.upgrade = raw !== undefined && !this.connect ? (firstValue(req.headers, 'upgrade') ?? '').toLowerCase() || undefined : undefined;
    this.hasBody = raw === undefined && (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0'));
    const response: TaggedResponse = res ?? this.#rawResponse(req, raw!.socket);
    this.#res = response;
    response[DOWNSTREAM] = this;
    response.on('close', H1Downstream.#onResponseEnd);
    response.on('error', H1Downstream.#onResponseEnd);
  }

  #rawResponse(req: IncomingMessage, socket: Socket): ServerResponse {
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.shouldKeepAlive = false;
    res.once('finish', () => socket.end());
    socket.once('close', () => this.#finish());
    return res;
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#res.writableFinished && !this.#tunnelled) {
      this.#aborted = true;
      this.#listener?.downstreamAborted();
    }
    this.#listener?.downstreamClosed();
  }

  #tunnelled = false;

  get headersSent(): boolean {
    return this.#res.headersSent || this.#tunnelled;
  }

  get closed(): boolean {
    return this.#closed;
  }

  writeHead(status: number, headers: OutgoingHttpHeaders, endStream: boolean): void {
    if (this.#closed || this.headersSent) return;
    try {
      if (this.#last || this.#conn.closeAfterResponse) this.#res.shouldKeepAlive = false;
      this.#res.writeHead(status, headers);
      if (endStream) this.#res.end();
    } catch {
      this.reset();
    }
  }

  expectTrailers(): void {
    // HTTP/1.1 carries trailers only in chunked framing, which node uses when no content-length is set.
  }

  write(chunk: Buffer): boolean {
    if (this.#closed) return true;
    try {
      return this.#res.write(chunk);
    } catch {
      this.reset();
      return true;
    }
  }

  end(trailers?: OutgoingHttpHeaders): void {
    if (this.#closed) return;
    try {
      if (trailers !== undefined && this.protocol === 'HTTP/1.1') this.#res.addTrailers(trailers as Record<string, string>);
    } catch {
      // Trailers that node cannot write (invalid characters) are dropped; the body is complete.
    }
    try {
      this.#res.end();
    } catch {
      this.reset();
    }
  }

  onDrain(cb: () => void): void {
    this.#res.once('drain', cb);
  }

  attach(listener: DownstreamListener): void {
    this.#listener = listener;
    if (this.#aborted) listener.downstreamAborted();
    if (this.#closed) listener.downstreamClosed();
  }

  reset(): void {
    if (this.#socket !== undefined) this.#socket.destroy();
    else this.#res.destroy();
    this.#finish();
  }

  tunnel(status: number, headers: OutgoingHttpHeaders): Duplex | undefined {
    const socket = this.#socket;
    if (socket === undefined || this.#closed || this.headersSent) return undefined;
    this.#tunnelled = true;
    let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
      else head += `${name}: ${value}\r\n`;
    }
    socket.write(`${head}\r\n`);
    if (this.#head !== undefined && this.#head.length > 0) socket.unshift(this.#head);
    return socket;
  }
}
