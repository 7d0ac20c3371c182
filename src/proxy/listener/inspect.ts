/**
 * Runs a listener version's listener filters on one accepted socket: each filter in order, reading
 * more bytes while the current one asks for them, under `listener_filters_timeout`. Bytes are read with
 * `'readable'` + `read()` so that, once the listener is removed, the socket is back in its initial
 * (non-flowing, unpaused) mode for the network filter; what was read comes back as `preread`.
 * A peer that closes mid-inspection ends it (`closed`), as Envoy closes such sockets.
 */
import type { Socket } from 'node:net';
import type { DisabledPredicate, InspectState, ListenerFilter } from './listener-filter.ts';

export interface ActiveListenerFilter {
  readonly name: string;
  readonly filter: ListenerFilter;
  readonly disabled: DisabledPredicate | undefined;
}

/** `done`: all filters continued; `timeout`: the timer fired first; `rejected`: a filter closed it. */
export type InspectOutcome = 'done' | 'timeout' | 'closed' | 'rejected';

export type InspectDone = (outcome: InspectOutcome, preread: Buffer | undefined) => void;

const EMPTY = Buffer.alloc(0);

class Inspection {
  readonly #socket: Socket;
  readonly #filters: readonly ActiveListenerFilter[];
  readonly #state: InspectState;
  readonly #done: InspectDone;
  #buffer: Buffer = EMPTY;
  #index = 0;
  #reading = false;
  #finished = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #onReadable = (): void => this.#read();
  readonly #onEnd = (): void => this.#finish('closed');

  constructor(socket: Socket, filters: readonly ActiveListenerFilter[], state: InspectState, done: InspectDone, initial: Buffer | undefined) {
    this.#socket = socket;
    if (initial !== undefined) this.#buffer = initial;
    this.#filters = filters;
    this.#state = state;
    this.#done = done;
  }

  start(timeoutMs: number): void {
    this.#socket.once('close', this.#onEnd);
    if (timeoutMs > 0) this.#timer = setTimeout(() => this.#finish('timeout'), timeoutMs);
    this.#step();
  }

  #step(): void {
    const filters = this.#filters;
    while (this.#index < filters.length) {
      const f = filters[this.#index]!;
      if (f.disabled?.(this.#state.localPort) === true) {
        this.#index++;
        continue;
      }
      let result;
      try {
        result = f.filter.inspect(this.#state, this.#buffer, this.#socket);
      } catch {
        result = 'close' as const;
      }
      if (result === 'continue') this.#index++;
      else if (result === 'close' || this.#buffer.length >= f.filter.maxReadBytes) return this.#finish('rejected');
      else return this.#startReading();
    }
    this.#finish('done');
  }

  #startReading(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#socket.on('readable', this.#onReadable);
    this.#socket.once('end', this.#onEnd);
  }

  #read(): void {
    let grew = false;
    for (let chunk: Buffer | null; !this.#finished && (chunk = this.#socket.read() as Buffer | null) !== null;) {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      grew = true;
    }
    if (grew && !this.#finished) this.#step();
  }

  #finish(outcome: InspectOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const socket = this.#socket;
    socket.removeListener('close', this.#onEnd);
    if (this.#reading) {
      socket.removeListener('readable', this.#onReadable);
      socket.removeListener('end', this.#onEnd);
    }
    this.#done(outcome, this.#buffer.length === 0 ? undefined : this.#buffer);
  }
}

/**
 * Inspects `socket` with `filters`, writing what they learn into `state`; calls `done` exactly once.
 * `initial` holds bytes already read by an earlier listener (original-destination hand-off).
 */
export function inspectConnection(
  socket: Socket,
  filters: readonly ActiveListenerFilter[],
  state: InspectState,
  timeoutMs: number,
  done: InspectDone,
  initial?: Buffer,
): void {
  new Inspection(socket, filters, state, done, initial).start(timeoutMs);
}
