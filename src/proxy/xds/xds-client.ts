/**
 * The proxy's xDS client: one ADS stream (gRPC over weft's HTTP/2 codec, grpc-stream.ts) to the control plane, incremental (delta)
 * when the server offers it, state of the world otherwise (a server answering UNIMPLEMENTED for delta
 * is remembered for the client's life). Listener and Cluster are subscribed as wildcards from the
 * start; RouteConfiguration and ClusterLoadAssignment names come from the proxy through `want`. Every
 * response is decoded and validated by the type's `ResourceHandler`, then applied and ACKed, or NACKed
 * whole with every problem while the last good config stays in force. The stream reconnects with
 * jittered exponential backoff, resubscribing with the versions held; connection changes are logged
 * once, not per retry. Readiness: the first complete Listener and Cluster sets were applied and every
 * wanted route and endpoint set arrived or timed out (plus the proxy's own predicate).
 * Learned from grpc-js-xds's `xds-client.ts` (per-type state, resource timers, backoff).
 */

import type { ResourceHandler, Subscriptions } from '../core/contracts.ts';
import type { Gauge, Stats } from '../core/stats.ts';
import { loadProtos } from '../../xds/protos.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { Backoff } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { DeltaSession } from './delta-session.ts';
import { XdsClientError } from './errors.ts';
import type { AdsMode, Session, SessionHost } from './session.ts';
import { SotwSession } from './sotw-session.ts';
import { TypeState } from './type-state.ts';
import type { HeldResource, TypeStatus } from './type-state.ts';
import { GrpcStream, formatStatus, type StreamStatus } from './grpc-stream.ts';
import { GrpcStatus } from '../../xds/grpc-status.ts';
import { DELTA, SOTW, type AdsMethod } from './wire.ts';
import type { NodeProto } from './wire.ts';

export type AdsProtocol = 'auto' | AdsMode;
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface XdsClientOptions {
  /** The control plane's ADS address, `host:port` (`[v6]:port`). */
  readonly server: string;
  readonly node: NodeProto;
  /** `auto` (default): delta, falling back to state of the world when the server lacks it. */
  readonly protocol?: AdsProtocol;
  /** How long a wanted route or endpoint set may take before it counts as absent (ms, default 15,000). */
  readonly initialFetchTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  /** The proxy's part of readiness (e.g. listeners bound); checked with the client's own warming. */
  readonly warmed?: () => boolean;
  readonly stats?: Stats;
  readonly log?: (line: string) => void;
  /** Responses larger than this end the stream (default 128 MiB: large meshes exceed gRPC's usual 4 MiB). */
  readonly maxResponseBytes?: number;
  /** Ping the control plane after this long without hearing from it (ms, default 5 minutes)… */
  readonly keepaliveMs?: number;
  /** …and reconnect when the ping is not answered within this (ms, default 20 s). */
  readonly keepaliveTimeoutMs?: number;
}

/** Envoy's server states, as `/ready` reports them. */
export type ServerState = 'PRE_INITIALIZING' | 'INITIALIZING' | 'LIVE';

export interface Readiness {
  readonly state: ServerState;
  readonly ready: boolean;
  /** What warming still waits for (`lds`, `eds outbound|9080||reviews…`, `proxy`), empty once ready. */
  readonly waitingFor: readonly string[];
}

export interface XdsClientStatus {
  readonly server: string;
  /** The variant in use (or to be used on the next stream). */
  readonly protocol: AdsMode;
  readonly state: ConnectionState;
  /** Epoch ms of the last state change. */
  readonly since: number;
  /** Failed attempts since the last stream that delivered a response. */
  readonly attempts: number;
  readonly lastError?: string;
  readonly readiness: Readiness;
  readonly types: readonly TypeStatus[];
}

const MAX_RESPONSE_BYTES = 128 * 2 ** 20;
const KEEPALIVE_MS = 5 * 60 * 1000;
const KEEPALIVE_TIMEOUT_MS = 20_000;
const USER_AGENT = 'weft-proxy';

const MAX_WAITING_SHOWN = 20;

export class XdsClient implements Subscriptions {
  readonly #opts: XdsClientOptions;
  readonly #types = new Map<string, TypeState>();
  readonly #backoff: Backoff;
  readonly #log: (line: string) => void;
  readonly #host: SessionHost;
  readonly #connected: Gauge | undefined;
  #mode: AdsMode;
  #call: GrpcStream<unknown, unknown> | undefined;
  #session: Session<any> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #state: ConnectionState = 'idle';
  #since = Date.now();
  /** The last connection state that was logged, so retries while down log nothing. */
  #reported: 'connected' | 'disconnected' | undefined;
  #lastError: string | undefined;
  /** A response is being handled: subscription changes wait until its ACK is sent. */
  #handling = false;
  readonly #dirty = new Set<TypeState>();
  readonly #expired: string[] = [];
  #ready = false;
  readonly #readyListeners = new Set<() => void>();
  #resolveReady!: () => void;
  /** Resolves once the proxy is warm (see the module comment); never rejects. */
  readonly ready: Promise<void>;

  constructor(options: XdsClientOptions) {
    this.#opts = options;
    this.#mode = options.protocol === 'sotw' ? 'sotw' : 'delta';
    this.#backoff = new Backoff(options.backoff);
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#connected = options.stats?.gauge('control_plane.connected_state');
    this.ready = new Promise((resolve) => (this.#resolveReady = resolve));
    const initialFetchTimeoutMs = options.initialFetchTimeoutMs ?? 15_000;
    this.#host = {
      node: options.node,
      types: this.#types,
      initialFetchTimeoutMs: initialFetchTimeoutMs > 0 ? initialFetchTimeoutMs : Infinity,
      expired: (state, name) => this.#onExpired(state, name),
      handled: (state, version, problems, message) => {
        if (problems.length > 0) this.#log(`xds: rejected ${state.short} version ${JSON.stringify(version)} (NACK, keeping the last good config): ${message}`);
      },
      unexpected: (typeUrl) => this.#log(`xds: the control plane sent ${typeUrl}, which nothing subscribed to (NACK)`),
    };
  }

  /** Adds the consumer of one resource type. Register every type before `start`. */
  register(handler: ResourceHandler): this {
    if (this.#state !== 'idle') throw new XdsClientError('XDS_CLIENT_HANDLER', `register ${handler.typeUrl} before start()`);
    if (this.#types.has(handler.typeUrl)) throw new XdsClientError('XDS_CLIENT_HANDLER', `a handler for ${handler.typeUrl} is already registered`);
    this.#types.set(handler.typeUrl, new TypeState(handler, { ...(this.#opts.stats ? { stats: this.#opts.stats } : {}), log: this.#log }));
    return this;
  }

  /**
   * Sets the wanted names of a named type (RDS, EDS). Handlers call it synchronously from `apply` (the
   * listener handler for the routes its listeners name, the cluster handler for its EDS clusters), so
   * warming sees the names before it judges readiness; the request goes out after the response's ACK.
   * Names no longer wanted are removed from their handler at once.
   */
  want(typeUrl: string, names: ReadonlySet<string>): void {
    const state = this.#types.get(typeUrl);
    if (state === undefined) throw new XdsClientError('XDS_CLIENT_UNKNOWN_TYPE', `no handler is registered for ${typeUrl}`);
    if (state.wildcard) throw new XdsClientError('XDS_CLIENT_WILDCARD', `${typeUrl} is always subscribed in full (wildcard)`);
    if (!state.want(names)) return;
    if (this.#handling) this.#dirty.add(state);
    else this.#session?.resubscribe(state);
    this.checkReady();
  }

  /** Opens the ADS stream (loading the protos first, ~100 ms once). */
  start(): void {
    if (this.#state !== 'idle') throw new XdsClientError('XDS_CLIENT_STATE', 'the xDS client was already started');
    loadProtos();
    this.#open();
  }

  /** Ends the stream; the config in force stays readable. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    clearTimeout(this.#retry);
    for (const t of this.#types.values()) t.streamEnded();
    const call = this.#call;
    this.#call = undefined;
    this.#session = undefined;
    call?.cancel();
  }

  /** Calls `listener` once the proxy is warm (at once, on a microtask, if it already is). */
  onReady(listener: () => void): () => void {
    if (this.#ready) {
      queueMicrotask(listener);
      return () => {};
    }
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  /** Re-evaluates warming (the proxy calls it when its own predicate's inputs change). */
  checkReady(): void {
    if (this.#ready || this.#state === 'closed' || this.#state === 'idle') return;
    if (this.#waitingFor(1).length > 0) return;
    this.#ready = true;
    this.#resolveReady();
    for (const l of this.#readyListeners) l();
    this.#readyListeners.clear();
  }

  readiness(): Readiness {
    const state: ServerState = this.#state === 'idle' ? 'PRE_INITIALIZING' : this.#ready ? 'LIVE' : 'INITIALIZING';
    return { state, ready: this.#ready, waitingFor: this.#ready ? [] : this.#waitingFor(MAX_WAITING_SHOWN) };
  }

  status(): XdsClientStatus {
    return {
      server: this.#opts.server,
      protocol: this.#mode,
      state: this.#state,
      since: this.#since,
      attempts: this.#backoff.attempts,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      readiness: this.readiness(),
      types: [...this.#types.values()].map((t) => t.status()),
    };
  }

  /**
   * Whether a wanted name of a named type needs no more waiting for: it arrived, or it is known to be
   * absent (removed, or its initial fetch timed out). Listener warming uses it for RDS names.
   */
  settled(typeUrl: string, name: string): boolean {
    return this.#types.get(typeUrl)?.settled(name) ?? true;
  }

  /** The resources of a type in force (decoded, with their bytes and versions), for `/config_dump`. */
  resources(typeUrl: string): HeldResource[] {
    return [...(this.#types.get(typeUrl)?.resources() ?? [])];
  }

  #open(): void {
    if (this.#state === 'closed') return;
    const method = (this.#mode === 'delta' ? DELTA : SOTW) as AdsMethod<unknown, unknown>;
    const call: GrpcStream<unknown, unknown> = new GrpcStream({
      target: this.#opts.server,
      path: method.path,
      encode: method.encode,
      decode: method.decode,
      maxResponseBytes: this.#opts.maxResponseBytes ?? MAX_RESPONSE_BYTES,
      keepaliveMs: this.#opts.keepaliveMs ?? KEEPALIVE_MS,
      keepaliveTimeoutMs: this.#opts.keepaliveTimeoutMs ?? KEEPALIVE_TIMEOUT_MS,
      userAgent: USER_AGENT,
      onMessage: (response) => {
        if (this.#call !== call) return;
        if (this.#state !== 'connected') this.#onConnected();
        this.#onResponse(session, response);
      },
      onStatus: (status) => {
        if (this.#call === call) this.#onEnded(status);
      },
    });
    const send = (request: unknown): void => {
      if (this.#call === call) call.write(request);
    };
    const session: Session<any> = this.#mode === 'delta' ? new DeltaSession(this.#host, send) : new SotwSession(this.#host, send);
    this.#call = call;
    this.#session = session;
    this.#setState('connecting');
    session.start();
  }

  #onResponse(session: Session<unknown>, response: unknown): void {
    this.#handling = true;
    try {
      session.onResponse(response);
    } catch (err) {
      this.#log(`xds: error handling a response: ${(err as Error).stack ?? err}`);
    } finally {
      this.#handling = false;
    }
    for (const state of this.#dirty) session.resubscribe(state);
    this.#dirty.clear();
    this.checkReady();
  }

  #onConnected(): void {
    this.#backoff.reset();
    this.#lastError = undefined;
    this.#setState('connected');
    if (this.#reported !== 'connected') this.#log(`xds: connected to ${this.#opts.server} (${this.#mode === 'delta' ? 'delta' : 'state of the world'})`);
    this.#reported = 'connected';
  }

  #onEnded(status: StreamStatus): void {
    this.#call = undefined;
    this.#session = undefined;
    for (const t of this.#types.values()) t.streamEnded();
    if (this.#state === 'closed') return;
    if (status.code === GrpcStatus.UNIMPLEMENTED && this.#mode === 'delta' && (this.#opts.protocol ?? 'auto') === 'auto') {
      this.#mode = 'sotw';
      this.#log(`xds: ${this.#opts.server} does not offer delta xDS; using state of the world from now on`);
      this.#open();
      return;
    }
    this.#lastError = formatStatus(status);
    this.#setState('disconnected');
    if (this.#reported !== 'disconnected') {
      const held = this.#reported === 'connected' ? 'keeping the last good config, ' : '';
      this.#log(`xds: stream to ${this.#opts.server} ended (${this.#lastError}); ${held}reconnecting with backoff`);
    }
    this.#reported = 'disconnected';
    const delay = this.#backoff.next();
    this.#retry = setTimeout(() => this.#open(), delay);
    this.#retry.unref();
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#since = Date.now();
    if (this.#connected !== undefined) this.#connected.value = state === 'connected' ? 1 : 0;
  }

  #onExpired(state: TypeState, name: string): void {
    if (!state.expire(name)) return;
    // Timers armed together fire together: one log line per batch.
    if (this.#expired.push(`${state.short} ${name}`) === 1) {
      queueMicrotask(() => {
        const list = this.#expired.splice(0);
        this.#log(`xds: ${list.length} resource(s) did not arrive within ${this.#host.initialFetchTimeoutMs} ms; treating them as absent: ${list.slice(0, MAX_WAITING_SHOWN).join(', ')}${list.length > MAX_WAITING_SHOWN ? ', …' : ''}`);
      });
    }
    this.checkReady();
  }

  /** Up to `limit` things warming waits for. */
  #waitingFor(limit: number): string[] {
    const out: string[] = [];
    for (const t of this.#types.values()) {
      if (t.wildcard) {
        if (!t.applied) out.push(t.short);
      } else {
        for (const n of t.waiting()) {
          if (out.length >= limit) return out;
          out.push(`${t.short} ${n}`);
        }
      }
      if (out.length >= limit) return out;
    }
    for (const required of [TYPE.listener, TYPE.cluster]) if (!this.#types.has(required)) out.push(`no handler for ${required}`);
    if (out.length === 0 && this.#opts.warmed !== undefined && !this.#opts.warmed()) out.push('proxy');
    return out.slice(0, limit);
  }
}
