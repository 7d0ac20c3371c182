/**
 * One ADS stream: its lifecycle (the first request must carry an acceptable node; `connect` once,
 * `disconnect` once), writing responses, and handing requests and pushes to its protocol variant.
 * Errors in generation are reported and skip that type; nothing thrown escapes into gRPC.
 */

import * as grpc from '@grpc/grpc-js';
import type { ConnectedProxy, Generated, ResourceServer } from '../../xds/resource-server.ts';
import type { AdsMode, AdsObserver, StreamStatus } from './types.ts';
import type { Protocol, ProtocolContext } from './protocol.ts';
import { toXdsNode } from './wire.ts';
import type { RawNode } from './wire.ts';

/** What a connection needs from its server. */
export interface ConnectionHost<P extends ConnectedProxy> {
  readonly resources: ResourceServer<P>;
  readonly observer: AdsObserver;
  readonly controlPlane: string;
  /** The stream was accepted (its node connected). */
  opened(connection: Connection<P, any>): void;
  /** The stream ended; called once, only after `opened`. */
  closed(connection: Connection<P, any>): void;
}

export type ProtocolFactory<R> = (ctx: ProtocolContext) => Protocol<R>;

export class Connection<P extends ConnectedProxy, R extends { readonly node: RawNode | null }> {
  readonly peer: string;
  readonly mode: AdsMode;
  readonly connectedAt = Date.now();
  #proxy: P | undefined;
  #protocol: Protocol<R> | undefined;
  #nonce = 0;
  #closed = false;
  readonly #call: grpc.ServerDuplexStream<R, Uint8Array>;
  readonly #host: ConnectionHost<P>;
  readonly #factory: ProtocolFactory<R>;

  constructor(call: grpc.ServerDuplexStream<R, Uint8Array>, host: ConnectionHost<P>, mode: AdsMode, factory: ProtocolFactory<R>) {
    this.#call = call;
    this.#host = host;
    this.mode = mode;
    this.#factory = factory;
    this.peer = call.getPeer();
    call.on('data', (req: R) => this.#onData(req));
    call.on('end', () => this.close());
    call.on('error', (err: Error) => this.#onStreamError(err));
    call.on('cancelled', () => this.#cleanup());
    call.on('close', () => this.#cleanup());
  }

  get proxy(): P | undefined {
    return this.#proxy;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends what changed among `types` (undefined: all) since the last response of each type. */
  push(types: ReadonlySet<string> | undefined, changedAt: number): void {
    if (this.#closed || this.#protocol === undefined) return;
    this.#guard(() => this.#protocol?.push(types, changedAt));
  }

  /** Ends the stream: with OK, or with `status` (the client sees it and reconnects). */
  close(status?: { readonly code: grpc.status; readonly details: string }): void {
    if (this.#closed) return;
    this.#cleanup();
    if (status === undefined) this.#call.end();
    else this.#call.emit('error', { code: status.code, details: status.details });
  }

  status(): StreamStatus | undefined {
    if (this.#proxy === undefined || this.#protocol === undefined) return undefined;
    return { proxyId: this.#proxy.id, connectedAt: this.connectedAt, peer: this.peer, mode: this.mode, types: this.#protocol.status() };
  }

  #onData(req: R): void {
    if (this.#closed) return;
    const receivedAt = performance.now();
    this.#guard(() => {
      if (this.#protocol === undefined && !this.#accept(req.node)) return;
      this.#protocol?.onRequest(req, receivedAt);
    });
  }

  #accept(raw: RawNode | null): boolean {
    const node = toXdsNode(raw);
    const result = 'error' in node ? node : this.#host.resources.connect(node, this.peer);
    if ('error' in result) {
      this.#report('REFUSED', result.error);
      this.close({ code: grpc.status.INVALID_ARGUMENT, details: `node refused: ${result.error}` });
      return false;
    }
    this.#proxy = result;
    this.#protocol = this.#factory(this.#context(result));
    this.#host.opened(this);
    return true;
  }

  #context(proxy: P): ProtocolContext {
    return {
      proxyId: proxy.id,
      observer: this.#host.observer,
      controlPlane: this.#host.controlPlane,
      generate: (typeUrl, names) => this.#generate(proxy, typeUrl, names),
      nextNonce: () => (++this.#nonce).toString(36),
      write: (bytes, info) => {
        if (this.#closed) return;
        this.#call.write(bytes);
        this.#host.observer.pushSent?.({ proxyId: proxy.id, bytes: bytes.length, mode: this.mode, ...info });
      },
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

  /** Runs request and push handling; a bug there ends this stream with INTERNAL instead of escaping. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#report('PROTOCOL', (err as Error).message);
      this.close({ code: grpc.status.INTERNAL, details: 'xDS server error' });
    }
  }

  #onStreamError(err: Error & { code?: number }): void {
    // Our own close() emits 'error' to set the status; report only what came from the transport.
    if (!this.#closed) this.#report('STREAM', err.message);
    this.#cleanup();
  }

  #report(code: string, message: string): void {
    this.#host.observer.streamError?.({ proxyId: this.#proxy?.id, peer: this.peer, code, message });
  }

  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#proxy === undefined) return;
    this.#host.closed(this);
    try {
      this.#host.resources.disconnect(this.#proxy);
    } catch (err) {
      this.#report('PROTOCOL', `disconnect: ${(err as Error).message}`);
    }
  }
}
