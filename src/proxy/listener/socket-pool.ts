/**
 * The listening sockets, keyed by address so the versions of a listener, or a listener that replaces
 * a removed one in the same update, take over a socket instead of rebinding it (no refused
 * connections). A socket belongs to one listener name at a time; a port-0 socket is keyed by its
 * listener name too, since every port-0 listener gets a port of its own. Sockets no version uses are
 * closed by `sweep`, which the manager runs after each update.
 */
import { BoundSocket } from './bound-socket.ts';

export class SocketPool {
  readonly #sockets = new Map<string, BoundSocket>();
  readonly #closing = new Set<Promise<void>>();

  /** The socket for `host:port` taken by `owner` (one more reference), or why it cannot be had. */
  claim(host: string, port: number, owner: string): BoundSocket | string {
    const key = port === 0 ? `${host}:0#${owner}` : `${host}:${port}`;
    let socket = this.#sockets.get(key);
    if (socket !== undefined && socket.refs > 0 && socket.owner !== owner) return `address ${host}:${port} is already used by listener '${socket.owner}'`;
    if (socket === undefined) this.#sockets.set(key, (socket = new BoundSocket(key, host, port, owner)));
    socket.owner = owner;
    socket.refs++;
    return socket;
  }

  /** Drops a socket that failed to bind, so the next claim makes a fresh one. */
  forget(socket: BoundSocket): void {
    if (this.#sockets.get(socket.key) === socket) this.#sockets.delete(socket.key);
  }

  /** Closes the sockets no listener version references. */
  sweep(): void {
    for (const [key, socket] of this.#sockets) {
      if (socket.refs > 0) continue;
      this.#sockets.delete(key);
      const closing = socket.close().finally(() => this.#closing.delete(closing));
      this.#closing.add(closing);
    }
  }

  /** Resolves when every socket being closed has closed. */
  async closed(): Promise<void> {
    await Promise.allSettled([...this.#closing]);
  }
}
