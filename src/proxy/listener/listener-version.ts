/**
 * One version of a listener at run time and the life of a connection it accepts: connection limit,
 * listener filters (with `listener_filters_timeout`), original-destination hand-off, filter-chain
 * match (else `default_filter_chain`), then the chain's network filter gets the connection. A version
 * keeps the connections it accepted even after a newer version takes the socket: they finish on the
 * chains they matched. Failures close the socket and bump the listener's counter; nothing throws.
 */
import type { Socket } from 'node:net';
import type { ConnectionInfo } from '../core/contracts.ts';
import type { Acceptor, BoundSocket } from './bound-socket.ts';
import type { ChainRuntime } from './chain-runtime.ts';
import type { CompiledChain, CompiledListener } from './compile-listener.ts';
import { inspectConnection } from './inspect.ts';
import type { InspectOutcome } from './inspect.ts';
import type { InspectState } from './listener-filter.ts';
import type { ListenerStats } from './listener-stats.ts';

export interface VersionContext {
  readonly log: (line: string) => void;
  /** The active `bind_to_port: false` listener for a restored destination, if any (Envoy's `use_original_dst`). */
  handoff(address: string, port: number): ListenerVersion | undefined;
  /** The active version of a listener, if it has one. */
  current(name: string): ListenerVersion | undefined;
  /** Connections still in listener filters, across all versions (closed on shutdown). */
  readonly inspecting: Set<Socket>;
}

/** Open connections of a listener name across its versions, against its limit. */
export interface ConnectionLimit {
  open: number;
  max: number;
}

export type VersionState = 'warming' | 'starting' | 'active' | 'draining' | 'discarded';

const noop = (): void => {};
const NO_ALPN: readonly string[] = [];

export class ListenerVersion implements Acceptor {
  readonly compiled: CompiledListener;
  /** The runtime of each compiled chain (and of the default chain). */
  readonly runtimes: ReadonlyMap<CompiledChain, ChainRuntime>;
  readonly limit: ConnectionLimit;
  state: VersionState = 'warming';
  socket: BoundSocket | undefined;
  /** Set when the version becomes active (the stat name may depend on the bound port). */
  stats!: ListenerStats;
  readonly #ctx: VersionContext;

  constructor(compiled: CompiledListener, runtimes: ReadonlyMap<CompiledChain, ChainRuntime>, limit: ConnectionLimit, ctx: VersionContext) {
    this.compiled = compiled;
    this.runtimes = runtimes;
    this.limit = limit;
    this.#ctx = ctx;
  }

  accept(socket: Socket): void {
    const limit = this.limit;
    if (limit.open >= limit.max) {
      this.stats.cxOverflow.value++;
      socket.destroy();
      return;
    }
    limit.open++;
    socket.once('close', () => limit.open--);
    socket.on('error', noop); // the network filter adds its own; this one keeps errors off the event loop
    const state: InspectState = {
      serverName: '',
      alpn: NO_ALPN,
      transport: 'raw_buffer',
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      restored: false,
    };
    this.#inspect(socket, state, undefined, true);
  }

  #inspect(socket: Socket, state: InspectState, initial: Buffer | undefined, mayHandOff: boolean): void {
    const { listenerFilters, listenerFiltersTimeoutMs } = this.compiled;
    if (listenerFilters.length === 0) {
      this.#route(socket, state, initial, mayHandOff);
      return;
    }
    this.#ctx.inspecting.add(socket);
    this.stats.preCxActive.value++;
    inspectConnection(socket, listenerFilters, state, listenerFiltersTimeoutMs, (outcome, preread) => {
      this.#ctx.inspecting.delete(socket);
      this.stats.preCxActive.value--;
      if (this.#proceed(outcome, socket)) this.#route(socket, state, preread, mayHandOff);
    }, initial);
  }

  #proceed(outcome: InspectOutcome, socket: Socket): boolean {
    const s = this.stats;
    if (outcome === 'done') return !socket.destroyed;
    if (outcome === 'timeout') {
      s.preCxTimeout.value++;
      if (this.compiled.continueOnListenerFiltersTimeout && !socket.destroyed) return true;
    } else if (outcome === 'closed') s.filterRemoteClose.value++;
    else s.filterError.value++;
    socket.destroy();
    return false;
  }

  /** Hands the connection to the listener of its original destination (once), else dispatches it here. */
  #route(socket: Socket, state: InspectState, preread: Buffer | undefined, mayHandOff: boolean): void {
    if (mayHandOff && this.compiled.useOriginalDst && state.restored) {
      const target = this.#ctx.handoff(state.localAddress, state.localPort);
      if (target !== undefined && target !== this) {
        target.#inspect(socket, state, preread, false);
        return;
      }
    }
    // Accepted just before an update: the listener filters ran here, the chains of the new version serve it.
    const owner = this.state === 'draining' ? this.#ctx.current(this.compiled.name) ?? this : this;
    owner.#dispatch(socket, state, preread);
  }

  #dispatch(socket: Socket, state: InspectState, preread: Buffer | undefined): void {
    const info: ConnectionInfo = {
      socket,
      localAddress: state.localAddress,
      localPort: state.localPort,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      serverName: state.serverName === '' ? undefined : state.serverName,
      alpn: state.alpn.length === 0 ? undefined : state.alpn,
      transport: state.transport,
      preread,
    };
    const chain = this.compiled.matcher.find(info) ?? this.compiled.defaultChain;
    const stats = this.stats;
    if (chain === undefined) {
      stats.noFilterChainMatch.value++;
      socket.destroy();
      return;
    }
    const runtime = this.runtimes.get(chain)!;
    stats.cxTotal.value++;
    stats.cxActive.value++;
    socket.once('close', () => {
      stats.cxActive.value--;
      stats.cxDestroy.value++;
    });
    if (!runtime.add(socket) || runtime.filter === undefined) {
      socket.destroy(); // the listener is gone, or a chain without filters (Envoy closes those)
      return;
    }
    try {
      runtime.filter.onConnection(info);
    } catch (err) {
      this.#ctx.log(`listener ${this.compiled.name}: network filter failed on a new connection: ${(err as Error).message}`);
      socket.destroy();
    }
  }
}
