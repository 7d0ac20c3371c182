/**
 * A response or request head and the first body bytes leave in one write: copied into one buffer when
 * they are small (the common case: a head and a body that arrived in the same read), else corked. One
 * system call either way, and no writev with its per-chunk bookkeeping in Node's stream layer.
 */
import type { Socket } from 'node:net';
import { writeChunk } from './chunk.ts';

/** Up to this many bytes, copying into one buffer is cheaper than writing two (Node's pool serves under 4 KiB). */
const COPY_LIMIT = 16 * 1024;

/**
 * Writes `head` (latin1) then `body` (non-empty), as one chunk of the chunked coding when `chunked`.
 * False when the socket asks the writer to wait for 'drain'.
 */
export function writeHeadAndBody(socket: Socket, head: string, body: Uint8Array, chunked: boolean): boolean {
  const sizeLine = chunked ? `${body.length.toString(16)}\r\n` : '';
  const total = head.length + sizeLine.length + body.length + (chunked ? 2 : 0);
  if (total > COPY_LIMIT) {
    socket.cork();
    socket.write(head, 'latin1');
    const ok = chunked ? writeChunk(socket, body) : socket.write(body);
    socket.uncork();
    return ok;
  }
  const out = Buffer.allocUnsafe(total);
  let at = out.write(head, 0, 'latin1');
  if (chunked) at += out.write(sizeLine, at, 'latin1');
  out.set(body, at);
  at += body.length;
  if (chunked) {
    out[at] = 0x0d;
    out[at + 1] = 0x0a;
  }
  return socket.write(out);
}
