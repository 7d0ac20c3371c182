/**
 * One request on weft's HTTP/1.1 upstream pool, from dispatch to its end: the undici dispatch
 * controller the router's handler holds (abort, pause, resume) and the sink its connection's parser
 * reports the response to. It waits in the pool's queue until a connection takes it, then belongs to
 * that connection. Every path ends in exactly one of `onResponseEnd`, `onResponseError` or
 * `onRequestUpgrade` on the handler; exceptions thrown by the handler are not caught here (the
 * router's handler never throws: `UpstreamAttempt` catches its owner's).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestHead } from './request-head.ts';
import type { ResponseSink } from '../../codec/http1/response-parser.ts';
import { PoolExchange } from '../pool-exchange.ts';

/** What an exchange needs from the connection running it. */
export interface ExchangeHost {
  /** The exchange gives up (aborted by its handler): the connection must not be reused. */
  abandon(ex: Exchange, reason: Error): void;
  /** The handler paused or resumed the response body. */
  readingChanged(ex: Exchange): void;
}

export class Exchange extends PoolExchange implements ResponseSink {
  readonly head: RequestHead;
  /** The connection running it, once taken from the queue. */
  host: ExchangeHost | undefined;

  constructor(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, head: RequestHead) {
    super(options, handler);
    this.head = head;
  }

  get upgrade(): boolean {
    return typeof this.options.upgrade === 'string';
  }

  /** A connection takes it: the request is about to be written. */
  start(host: ExchangeHost): void {
    this.host = host;
    this.handler.onRequestStart?.(this, null);
  }

  // Handlers get the controller from `onRequestStart` on, so an exchange is never aborted while it
  // waits in the queue (one that were is skipped when its turn comes).
  protected cancel(reason: Error): void {
    this.host?.abandon(this, reason);
  }

  protected pausedChanged(): void {
    this.host?.readingChanged(this);
  }

  /** Ends it by handing the connection's socket over (a 101 to an upgrade request). */
  upgraded(status: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    if (this.over) {
      socket.destroy();
      return;
    }
    this.over = true;
    this.handler.onRequestUpgrade?.(this, status, headers, socket);
  }

  // ResponseSink: the parser's callbacks. Returning false stops the parser (paused, or the exchange ended).

  #head: { status: number; headers: IncomingHttpHeaders; statusText: string } | undefined;

  onHead(status: number, headers: IncomingHttpHeaders, statusText: string): boolean {
    if (this.over) return false;
    if (status === 101) {
      // Handed over by the connection once the parser stopped (it owns the socket and the bytes after the head).
      this.#head = { status, headers, statusText };
      return false;
    }
    this.handler.onResponseStart?.(this, status, headers, statusText);
    return !this.over && !this.paused;
  }

  /** The 101 head kept for the hand-over. */
  takeUpgradeHead(): { status: number; headers: IncomingHttpHeaders } | undefined {
    const h = this.#head;
    this.#head = undefined;
    return h;
  }

  onBody(chunk: Buffer): boolean {
    if (this.over) return false;
    this.handler.onResponseData?.(this, chunk);
    return !this.over && !this.paused;
  }

  onEnd(trailers: IncomingHttpHeaders): void {
    if (this.over) return;
    this.over = true;
    this.handler.onResponseEnd?.(this, trailers);
  }
}
