/**
 * For network filters that read the downstream socket as a stream (`data` events, `pipe`, a parser
 * fed from `data`): puts the listener filters' `preread` bytes back at the front of the socket's
 * readable buffer so they come out first. Filters that hand the raw socket handle to native code
 * (a TLS server socket over the handle, an HTTP parser consuming the handle) must not use this: they
 * would bypass the buffer; they write `preread` into their parser themselves.
 */
import type { ConnectionInfo } from '../core/contracts.ts';

export function replayPreread(info: ConnectionInfo): void {
  if (info.preread !== undefined && info.preread.length > 0 && !info.socket.readableEnded) info.socket.unshift(info.preread);
}
