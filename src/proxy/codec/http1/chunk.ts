/**
 * Chunked transfer coding on the way out (RFC 9112 §7.1), for both sides' codecs: one chunk is its
 * size line, its bytes and CRLF, corked so they leave in one system call. An empty chunk would be the
 * last-chunk marker, so callers skip empty writes and end the body themselves.
 */
import type { Socket } from 'node:net';

/** Writes `chunk` (non-empty) as one chunk; false when the socket asks the writer to wait for 'drain'. */
export function writeChunk(socket: Socket, chunk: Uint8Array): boolean {
  socket.cork();
  socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
  socket.write(chunk);
  const ok = socket.write('\r\n', 'latin1');
  socket.uncork();
  return ok;
}
