/**
 * The ADS server: a gRPC service offering `StreamAggregatedResources` (state of the world) and
 * `DeltaAggregatedResources` (incremental) over a `ResourceServer`, on weft's own gRPC-over-HTTP/2
 * transport (grpc-server.ts, grpc-call.ts). It owns the set of open streams,
 * turns push events into per-stream work spread over event-loop turns (so a thousand streams never
 * block it), and exposes status for `/debug/syncz`. It knows xDS only, nothing of Istio.
 */

import type http2 from 'node:http2';
import type { ConnectedProxy, PushEvent, ResourceServer } from '../../xds/resource-server.ts';
import { loadProtos } from '../../xds/protos.ts';
import { Connection } from './connection.ts';
import type { ConnectionHost, ProtocolFactory } from './connection.ts';
import { DeltaProtocol } from './delta.ts';
import { FramePool } from './frame-pool.ts';
import { GrpcCall } from './grpc-call.ts';
import { GrpcStatus } from '../../xds/grpc-status.ts';
import { GrpcServer } from './grpc-server.ts';
import type { CallOpener, GrpcServerOptions } from './grpc-server.ts';
import { NameInterner } from './names.ts';
import { DELTA_ADS_PATH, SOTW_ADS_PATH } from './service.ts';
import { SotwProtocol } from './sotw.ts';
import type { AdsObserver, StreamStatus } from './types.ts';
import { decodeDeltaRequest, decodeSotwRequest } from './wire.ts';
import type { DeltaRequest, SotwRequest } from './wire.ts';
import { RequestGate } from './request-gate.ts';
import { WriteBudget } from './write-budget.ts';

export interface AdsServerOptions<P extends ConnectedProxy> {
  readonly resources: ResourceServer<P>;
  readonly observer?: AdsObserver;
  /** Written in every response's `control_plane.identifier` (e.g. `weft-control@host`). */
  readonly controlPlaneId?: string;
  /** At most this many streams are handled per event-loop turn when a push fans out (default 64)… */
  readonly batchSize?: number;
  /** …and a turn stops early once it has run this long (ms, default 5), so other work interleaves. */
  readonly sliceMs?: number;
  /**
   * Response bytes in flight (written, not yet taken by HTTP/2) over all streams above which streams
   * wait before writing more (default 16 MiB; Infinity for no cap). Bounds memory during fan-out: at 1,000
   * proxies × 1,000 services peak RSS was 2,086 MB without a cap, 727 MB at 64 MiB, 638 MB at 8 MiB (early
   * code). Today that peak is set by the initial sync: 254–318 MB over seven runs at 32 MiB, 268 MB at 16 MiB
   * with the sync no slower (10.9 s against 11–12 s): halving the cap lowers what it may hold by 16 MiB.
   */
  readonly maxInflightBytes?: number;
  /** Per stream: it stops writing while this many of its bytes are in flight (default 256 KiB). */
  readonly streamHighWaterBytes?: number;
  /** A stream whose writes make no progress this long (ms) stops counting against the cap (default 10 s). */
  readonly stallMs?: number;
  /** Connection keepalive (HTTP/2 PINGs). */
  readonly keepalive?: GrpcServerOptions;
  /** Offer `DeltaAggregatedResources` (default true; false answers it UNIMPLEMENTED, as a SotW-only control plane would). */
  readonly offerDelta?: boolean;
  /** A request larger than this ends its stream with RESOURCE_EXHAUSTED (default 4 MiB, gRPC's usual limit). */
  readonly maxRequestBytes?: number;
  /**
   * Requests that arrive from a change (`expectPush`) until its push has fanned out wait
   * (request-gate.ts), at most this long (ms, default 100; 0 handles them at once, between the fan-out's
   * writes).
   */
  readonly maxRequestHoldMs?: number;
}

export interface ListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

type AnyConnection<P extends ConnectedProxy> = Connection<P, SotwRequest> | Connection<P, DeltaRequest>;

interface PendingPush {
  /** The event's own set until a second push merges into it (then a copy). */
  types: ReadonlySet<string> | undefined;
  merged: boolean;
  changedAt: number;
}

export class AdsServer<P extends ConnectedProxy = ConnectedProxy> {
  readonly #resources: ResourceServer<P>;
  readonly #observer: AdsObserver;
  readonly #batchSize: number;
  readonly #sliceMs: number;
  readonly #host: ConnectionHost<P>;
  readonly #keepalive: GrpcServerOptions | undefined;
  readonly #maxRequestBytes: number;
  readonly #offerDelta: boolean;
  readonly #pool = new FramePool();
  readonly #connections = new Set<AnyConnection<P>>();
  readonly #byProxy = new Map<string, Set<AnyConnection<P>>>();
  readonly #pending = new Map<AnyConnection<P>, PendingPush>();
  /** The streams of `#pending` in the order they were queued, from `#next` on (an array, not the map's iterator, on the per-stream path). */
  #queue: AnyConnection<P>[] = [];
  #next = 0;
  /** Streams with responses waiting for their stream (or the write budget) to have room. */
  readonly #backlogged = new Set<AnyConnection<P>>();
  readonly #budget: WriteBudget;
  readonly #gate: RequestGate | undefined;
  readonly #names = new NameInterner();
  #draining = false;
  /** The earliest change among pushes not yet fully handed out, and the streams handled for them. */
  #fanoutSince = Infinity;
  #fanoutStreams = 0;
  #idleWaiters: (() => void)[] = [];
  #server: GrpcServer | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: AdsServerOptions<P>) {
    this.#resources = options.resources;
    this.#observer = options.observer ?? {};
    this.#batchSize = Math.max(1, options.batchSize ?? 64);
    this.#sliceMs = options.sliceMs ?? 5;
    this.#keepalive = options.keepalive;
    this.#maxRequestBytes = options.maxRequestBytes ?? 4 * 2 ** 20;
    this.#offerDelta = options.offerDelta ?? true;
    const holdMs = options.maxRequestHoldMs ?? 100;
    this.#gate = holdMs > 0 ? new RequestGate(holdMs, () => this.#pending.size > 0) : undefined;
    this.#budget = new WriteBudget({
      limitBytes: options.maxInflightBytes ?? 16 * 2 ** 20, stallMs: options.stallMs ?? 10_000, sliceMs: this.#sliceMs,
    });
    this.#host = {
      resources: this.#resources,
      observer: this.#observer,
      controlPlane: options.controlPlaneId ?? '',
      names: this.#names,
      budget: this.#budget,
      highWaterBytes: options.streamHighWaterBytes ?? 256 * 2 ** 10,
      opened: (c) => this.#opened(c),
      closed: (c) => this.#closed(c),
      backlog: (c, waiting) => this.#backlog(c, waiting),
    };
  }

  /** Starts serving ADS on `host:port` (0: a free port); resolves with the bound port. */
  async start(listen: ListenOptions): Promise<number> {
    if (this.#server !== undefined) throw new Error('ADS server already started');
    loadProtos();
    this.#unsubscribe ??= this.#resources.onPush((event) => this.#onPush(event));
    const methods = new Map([[SOTW_ADS_PATH, this.#opener<SotwRequest>('sotw', 'DiscoveryRequest', decodeSotwRequest, (ctx) => new SotwProtocol(ctx))]]);
    if (this.#offerDelta) methods.set(DELTA_ADS_PATH, this.#opener<DeltaRequest>('delta', 'DeltaDiscoveryRequest', decodeDeltaRequest, (ctx) => new DeltaProtocol(ctx)));
    const server = new GrpcServer(methods, this.#keepalive);
    const port = await server.listen(listen.host, listen.port);
    this.#server = server;
    return port;
  }

  #opener<R extends SotwRequest | DeltaRequest>(
    mode: 'sotw' | 'delta', messageName: string, decode: (b: Buffer) => R, factory: ProtocolFactory<R>,
  ): CallOpener {
    const options = { decode, messageName, maxRequestBytes: this.#maxRequestBytes, pool: this.#pool, ...(this.#gate === undefined ? {} : { gate: this.#gate }) };
    return (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      new Connection<P, R>(new GrpcCall(stream, headers, options), this.#host, mode, factory);
    };
  }

  /** Ends every stream with UNAVAILABLE (clients reconnect elsewhere or later) and stops the server. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const c of [...this.#connections]) c.close({ code: GrpcStatus.UNAVAILABLE, details: 'xDS server stopping' });
    this.#pending.clear();
    this.#queue = [];
    this.#next = 0;
    this.#backlogged.clear();
    this.#budget.close();
    this.#pool.clear();
    this.#wakeIdle();
    const server = this.#server;
    this.#server = undefined;
    // Clients that stopped reading keep their connection from closing gracefully: a second at most.
    await server?.close(1000);
  }

  /**
   * A change was made and its push will follow (after the debounce): requests wait from now on, as
   * they do while a push fans out, so that the requests that come with a change are answered from the
   * view that includes it (a connecting proxy's subscriptions, read in the turn that registered it, are
   * not answered from the old view only to be pushed the new one right after). The gate opens when the
   * push has fanned out or reached nobody, or after `maxRequestHoldMs` at the latest.
   */
  expectPush(): void {
    this.#gate?.shutNow();
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Per open stream: proxy, peer, mode and the exchange state of each type. */
  status(): StreamStatus[] {
    const out: StreamStatus[] = [];
    for (const c of this.#connections) {
      const s = c.status();
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /**
   * Flow control figures: bytes in flight, streams waiting for the budget, streams with responses
   * waiting, streams whose requests wait for a push to fan out.
   */
  get flow(): { readonly inflightBytes: number; readonly waitingStreams: number; readonly backloggedStreams: number; readonly heldStreams: number } {
    return { inflightBytes: this.#budget.inflight, waitingStreams: this.#budget.waiting, backloggedStreams: this.#backlogged.size, heldStreams: this.#gate?.holding ?? 0 };
  }

  /** Resources names shared by the streams (identical arrays for equal subscriptions). */
  get names(): NameInterner {
    return this.#names;
  }

  /**
   * Resolves once every queued push has been handled and no stream has a response waiting for room
   * (for tests and orderly shutdown).
   */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#pending.size === 0 && !this.#draining && this.#backlogged.size === 0;
  }

  #backlog(c: AnyConnection<P>, waiting: boolean): void {
    if (waiting) this.#backlogged.add(c);
    else if (this.#backlogged.delete(c) && this.#isIdle()) this.#wakeIdle();
  }

  #opened(c: AnyConnection<P>): void {
    this.#connections.add(c);
    const id = c.proxy?.id ?? '';
    let set = this.#byProxy.get(id);
    if (set === undefined) this.#byProxy.set(id, (set = new Set()));
    set.add(c);
    this.#observer.connections?.(this.#connections.size);
  }

  #closed(c: AnyConnection<P>): void {
    if (!this.#connections.delete(c)) return;
    this.#pending.delete(c);
    if (this.#pending.size === 0 && !this.#draining) this.#fanoutEnded();
    this.#backlogged.delete(c);
    const id = c.proxy?.id ?? '';
    const set = this.#byProxy.get(id);
    set?.delete(c);
    if (set?.size === 0) this.#byProxy.delete(id);
    this.#observer.connections?.(this.#connections.size);
  }

  /** Queues the event's streams; a stream already queued merges types and keeps the earliest change. */
  #onPush(event: PushEvent): void {
    const targets: Iterable<AnyConnection<P>> = event.proxies === undefined
      ? this.#connections
      : [...event.proxies].flatMap((id) => [...(this.#byProxy.get(id) ?? [])]);
    const types = event.types === undefined ? undefined : new Set(event.types);
    for (const c of targets) {
      // Only a push that reaches a stream starts the clock: one that concerns nobody is never "done".
      this.#fanoutSince = Math.min(this.#fanoutSince, event.changedAt);
      const queued = this.#pending.get(c);
      if (queued === undefined) {
        this.#pending.set(c, { types, merged: false, changedAt: event.changedAt });
        this.#queue.push(c);
        continue;
      }
      if (queued.types !== undefined) {
        if (types === undefined) queued.types = undefined;
        else {
          const merged = queued.merged ? queued.types as Set<string> : new Set(queued.types);
          for (const t of types) merged.add(t);
          queued.types = merged;
          queued.merged = true;
        }
      }
      queued.changedAt = Math.min(queued.changedAt, event.changedAt);
    }
    // A push that reaches no stream ends at once (requests held since `expectPush` go on).
    if (this.#pending.size > 0) this.#gate?.shutNow();
    else this.#gate?.open();
    this.#scheduleDrain();
  }

  #scheduleDrain(): void {
    if (this.#draining || this.#pending.size === 0) return;
    this.#draining = true;
    setImmediate(this.#drainNow);
  }

  readonly #drainNow = (): void => this.#drain();

  /** Handles up to one batch (or one time slice) of queued streams, then yields to the event loop. */
  #drain(): void {
    const start = performance.now();
    const queue = this.#queue;
    let n = 0;
    while (this.#next < queue.length) {
      if (n >= this.#batchSize || (n > 0 && n % 8 === 0 && performance.now() - start > this.#sliceMs)) break;
      const c = queue[this.#next++]!;
      const push = this.#pending.get(c);
      if (push === undefined) continue; // closed since it was queued
      n++;
      this.#pending.delete(c);
      c.push(push.types, push.changedAt);
      this.#fanoutStreams++;
    }
    this.#draining = false;
    if (this.#pending.size > 0) {
      this.#scheduleDrain();
      return;
    }
    this.#fanoutEnded();
    if (Number.isFinite(this.#fanoutSince)) {
      this.#observer.pushDone?.({ latencyMs: performance.now() - this.#fanoutSince, streams: this.#fanoutStreams });
      this.#fanoutSince = Infinity;
      this.#fanoutStreams = 0;
    }
    if (this.#isIdle()) this.#wakeIdle();
  }

  /** No stream is queued any more: the queue starts over, and held requests are handed back. */
  #fanoutEnded(): void {
    this.#queue = [];
    this.#next = 0;
    this.#gate?.open();
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
