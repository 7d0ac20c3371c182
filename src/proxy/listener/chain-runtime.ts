/**
 * A filter chain at run time: its network filter instance and the connections it owns. A runtime is
 * shared by every version of a listener whose chain runs the same filters (Envoy's in-place filter
 * chain update): an update that leaves a chain alone leaves its connections alone. When no version
 * uses it any more it drains: the filter is told (`drain()`: an HTTP connection manager stops taking
 * new streams), live connections get the drain time to finish, then the rest are closed.
 */
import type { Socket } from 'node:net';
import type { NetworkFilter } from '../core/contracts.ts';

export class ChainRuntime {
  readonly key: string;
  readonly listener: string;
  readonly filter: NetworkFilter | undefined;
  /** Versions using this runtime. */
  refs = 0;
  readonly #connections = new Set<Socket>();
  #draining = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #onClosed: (runtime: ChainRuntime) => void;

  /** `onClosed` runs once, when the runtime is draining (or destroyed) and its last connection has closed. */
  constructor(key: string, listener: string, filter: NetworkFilter | undefined, onClosed: (runtime: ChainRuntime) => void) {
    this.key = key;
    this.listener = listener;
    this.filter = filter;
    this.#onClosed = onClosed;
  }

  get connections(): number {
    return this.#connections.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Tracks a connection handed to this chain until it closes; false once the runtime has closed. */
  add(socket: Socket): boolean {
    if (this.#closed) return false;
    this.#connections.add(socket);
    socket.once('close', () => {
      this.#connections.delete(socket);
      if (this.#draining && this.#connections.size === 0) this.#close();
    });
    return true;
  }

  /** Starts draining: `onForcedClose(n)` reports connections still open when `timeoutMs` ran out (they are then destroyed). */
  drain(timeoutMs: number, onForcedClose: (count: number) => void): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      this.filter?.drain();
    } catch {
      // A filter failing to drain still gets closed when the drain time is over.
    }
    if (this.#connections.size === 0) {
      this.#close();
      return;
    }
    this.#timer = setTimeout(() => {
      onForcedClose(this.#connections.size);
      for (const socket of this.#connections) socket.destroy();
    }, timeoutMs);
  }

  /** Closes every connection now (shutdown, a version that never served). */
  destroy(): void {
    this.#draining = true;
    for (const socket of this.#connections) socket.destroy();
    if (this.#connections.size === 0) this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    try {
      this.filter?.close?.();
    } catch {
      // Nothing to undo: the runtime is gone either way.
    }
    this.#onClosed(this);
  }
}
