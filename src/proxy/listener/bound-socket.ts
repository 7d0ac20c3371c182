/**
 * A listening socket, owned by the listener manager and shared by the versions of the listener bound
 * to its address: an update with the same address switches `target` (new connections go to the new
 * version) without closing the socket, so no connection is refused during an update. Sockets are
 * half-open capable (`allowHalfOpen`): a FIN from the client ends only its direction, which the TCP
 * proxy needs to forward half-closes; network filters end their side themselves.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export interface Acceptor {
  accept(socket: Socket): void;
}

export class BoundSocket {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** The listener name that claimed the socket last. */
  owner: string;
  /** Listener versions (active or starting) using the socket; at 0 it is closed unless claimed again. */
  refs = 0;
  /** Where new connections go; undefined while no version is active (they are refused by closing). */
  target: Acceptor | undefined;
  readonly #server: Server;
  #listening: Promise<void> | undefined;
  #bound = false;
  #closed = false;

  constructor(key: string, host: string, port: number, owner: string) {
    this.key = key;
    this.host = host;
    this.port = port;
    this.owner = owner;
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#onConnection(socket));
  }

  get bound(): boolean {
    return this.#bound;
  }

  /** The port actually bound (the configured one, or the kernel's choice for port 0). */
  get boundPort(): number {
    const a = this.#server.address();
    return a !== null && typeof a === 'object' ? a.port : this.port;
  }

  /** Binds once; later calls return the same promise. Rejects with the bind error (EADDRINUSE…). */
  listen(backlog: number | undefined): Promise<void> {
    this.#listening ??= new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ host: this.host, port: this.port, ...(backlog === undefined ? {} : { backlog }) }, () => {
        this.#server.removeListener('error', onError);
        if (this.#closed) {
          this.#server.close();
          reject(new Error(`listener socket ${this.host}:${this.port} was closed while binding`));
          return;
        }
        this.#server.on('error', () => {}); // accept errors (EMFILE…) must not reach the event loop
        this.#bound = true;
        resolve();
      });
    });
    return this.#listening;
  }

  /** Stops accepting; connections already accepted are not affected. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.target = undefined;
    if (!this.#server.listening) return Promise.resolve();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #onConnection(socket: Socket): void {
    const target = this.target;
    if (target === undefined) socket.destroy();
    else target.accept(socket);
  }
}
