/**
 * One ADS stream: its lifecycle (the first request must carry an acceptable node; `connect` once,
 * `disconnect` once), writing responses with flow control, and handing requests and pushes to its
 * protocol variant. Errors in generation are reported and skip that type; nothing thrown escapes into
 * the transport (a bug in request or push handling ends the stream with INTERNAL).
 * Flow control: a response counts as in flight from `call.write()` until its write callback (the
 * socket took it, which waits on the client's flow-control window). The stream stops writing
 * while its own in-flight bytes reach `highWaterBytes`, while `call.write()` asked for 'drain', or
 * while the server's write budget is spent; its protocol keeps what it owes as pending types and
 * flushes them, freshly generated, when writing may resume.
 */

import { GrpcStatus } from '../../xds/grpc-status.ts';
import type { CallStatus, GrpcCall } from './grpc-call.ts';
import type { ConnectedProxy, Generated, ResourceServer } from '../../xds/resource-server.ts';
import type { AdsMode, AdsObserver, StreamStatus } from './types.ts';
import type { NameInterner } from './names.ts';
import type { Protocol, ProtocolContext } from './protocol.ts';
import type { OutgoingResponse } from './responses.ts';
import type { BudgetHolder, WriteBudget } from './write-budget.ts';
import { toXdsNode } from './wire.ts';
import type { RawNode } from './wire.ts';

/** What a connection needs from its server. */
export interface ConnectionHost<P extends ConnectedProxy> {
  readonly resources: ResourceServer<P>;
  readonly observer: AdsObserver;
  readonly controlPlane: string;
  readonly names: NameInterner;
  readonly budget: WriteBudget;
  /** A stream stops writing while this many of its bytes are in flight. */
  readonly highWaterBytes: number;
  /** The stream was accepted (its node connected). */
  opened(connection: Connection<P, any>): void;
  /** The stream ended; called once, only after `opened`. */
  closed(connection: Connection<P, any>): void;
  /** Whether the stream has responses waiting to be written changed. */
  backlog(connection: Connection<P, any>, waiting: boolean): void;
}

export type ProtocolFactory<R> = (ctx: ProtocolContext) => Protocol<R>;

export class Connection<P extends ConnectedProxy, R extends { readonly node: RawNode | null }> implements BudgetHolder {
  readonly peer: string;
  readonly mode: AdsMode;
  readonly connectedAt = Date.now();
  #proxy: P | undefined;
  #protocol: Protocol<R> | undefined;
  #nonce = 0;
  #closed = false;
  /** Bytes written whose write callback has not come yet. */
  #inflight = 0;
  /** `call.write()` returned false: nothing more until the call drains. */
  #needDrain = false;
  /** Whether the host was told this stream has responses waiting. */
  #backlogged = false;
  readonly #call: GrpcCall<R>;
  readonly #host: ConnectionHost<P>;
  readonly #factory: ProtocolFactory<R>;

  constructor(call: GrpcCall<R>, host: ConnectionHost<P>, mode: AdsMode, factory: ProtocolFactory<R>) {
    this.#call = call;
    this.#host = host;
    this.mode = mode;
    this.#factory = factory;
    this.peer = call.peer;
    call.start({
      message: (req, receivedAt) => this.#onData(req, receivedAt),
      halfClosed: () => this.close(),
      closed: (err) => this.#onCallClosed(err),
      drain: () => {
        this.#needDrain = false;
        this.resume();
      },
      written: (n) => this.#written(n),
    });
  }

  get proxy(): P | undefined {
    return this.#proxy;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends what changed among `types` (undefined: all) since the last response of each type. */
  push(types: ReadonlySet<string> | undefined, changedAt: number): void {
    const protocol = this.#protocol;
    if (this.#closed || protocol === undefined) return;
    try {
      protocol.push(types, changedAt);
    } catch (err) {
      this.#failed(err);
    }
    this.#updateBacklog();
  }

  /** Writing may go on (called by the write budget, and on this stream's own progress). */
  resume(): void {
    const protocol = this.#protocol;
    if (this.#closed || protocol === undefined) return;
    try {
      protocol.flush();
    } catch (err) {
      this.#failed(err);
    }
    this.#updateBacklog();
  }

  /** Ends the stream: with OK, or with `status` (the client sees it and reconnects). */
  close(status?: CallStatus): void {
    if (this.#closed) return;
    this.#cleanup();
    this.#call.end(status);
  }

  status(): StreamStatus | undefined {
    if (this.#proxy === undefined || this.#protocol === undefined) return undefined;
    return { proxyId: this.#proxy.id, connectedAt: this.connectedAt, peer: this.peer, mode: this.mode, types: this.#protocol.status() };
  }

  #onData(req: R, receivedAt: number): void {
    if (this.#closed) return;
    this.#host.observer.request?.({ mode: this.mode, request: req });
    try {
      if (this.#protocol !== undefined || this.#accept(req.node)) this.#protocol?.onRequest(req, receivedAt);
    } catch (err) {
      this.#failed(err);
    }
    this.#updateBacklog();
  }

  /** May a response be written now? When the budget says no, it resumes this stream later. */
  #writable(): boolean {
    if (this.#closed || this.#needDrain || this.#inflight >= this.#host.highWaterBytes) return false;
    return this.#host.budget.admit(this);
  }

  #write(proxy: P, response: OutgoingResponse, typeUrl: string, resources: number, removed: number): void {
    if (this.#closed) return;
    const n = response.length;
    this.#inflight += n;
    this.#host.budget.take(this, n);
    if (!this.#call.write(response)) this.#needDrain = true;
    this.#host.observer.pushSent?.({ proxyId: proxy.id, typeUrl, bytes: n, resources, removed, mode: this.mode });
  }

  /** The socket took `n` bytes: they no longer count, and writing may resume. */
  #written(n: number): void {
    if (this.#closed) return;
    const wasBlocked = this.#inflight >= this.#host.highWaterBytes;
    this.#inflight -= n;
    this.#host.budget.give(this, n);
    if (wasBlocked && this.#inflight < this.#host.highWaterBytes) this.resume();
  }

  /** Tells the host whether responses wait, after anything that may have changed it. */
  #updateBacklog(): void {
    const waiting = !this.#closed && (this.#protocol?.pending ?? 0) > 0;
    if (waiting === this.#backlogged) return;
    this.#backlogged = waiting;
    this.#host.backlog(this, waiting);
  }

  #accept(raw: RawNode | null): boolean {
    const node = toXdsNode(raw);
    const result = 'error' in node ? node : this.#host.resources.connect(node, this.peer);
    if ('error' in result) {
      this.#report('REFUSED', result.error);
      this.close({ code: GrpcStatus.INVALID_ARGUMENT, details: `node refused: ${result.error}` });
      return false;
    }
    this.#proxy = result;
    this.#protocol = this.#factory(this.#context(result));
    this.#host.opened(this);
    return true;
  }

  #context(proxy: P): ProtocolContext {
    const writable = (): boolean => this.#writable();
    return {
      proxyId: proxy.id,
      observer: this.#host.observer,
      controlPlane: this.#host.controlPlane,
      names: this.#host.names,
      generate: (typeUrl, names) => this.#generate(proxy, typeUrl, names),
      nextNonce: () => (++this.#nonce).toString(36),
      get writable() {
        return writable();
      },
      write: (response, typeUrl, resources, removed) => this.#write(proxy, response, typeUrl, resources, removed),
    };
  }

  #generate(proxy: P, typeUrl: string, names: readonly string[] | undefined): Generated | undefined {
    try {
      return this.#host.resources.generate(proxy, typeUrl, names);
    } catch (err) {
      this.#report('GENERATE', `${typeUrl}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Request or push handling threw (a bug): the stream ends with INTERNAL instead of the error escaping. */
  #failed(err: unknown): void {
    this.#report('PROTOCOL', (err as Error).message);
    this.close({ code: GrpcStatus.INTERNAL, details: 'xDS server error' });
  }

  /** The call ended under us: the client went away, reset the stream, or sent what could not be read. */
  #onCallClosed(err: Error | undefined): void {
    if (!this.#closed && err !== undefined) this.#report('STREAM', err.message);
    this.#cleanup();
  }

  #report(code: string, message: string): void {
    this.#host.observer.streamError?.({ proxyId: this.#proxy?.id, peer: this.peer, code, message });
  }

  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    // An ended call never calls back for writes still in flight: give their bytes back here.
    this.#host.budget.release(this);
    this.#inflight = 0;
    this.#updateBacklog();
    if (this.#proxy === undefined) return;
    this.#host.closed(this);
    try {
      this.#host.resources.disconnect(this.#proxy);
    } catch (err) {
      this.#report('PROTOCOL', `disconnect: ${(err as Error).message}`);
    }
  }
}
