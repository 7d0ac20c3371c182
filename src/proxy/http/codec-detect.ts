/**
 * `codec_type: AUTO`: which HTTP codec a connection speaks. TLS connections say so through ALPN; plaintext
 * ones are HTTP/2 exactly when they open with the connection preface (prior knowledge, RFC 9113 §3.3),
 * which the first bytes decide (most HTTP/1 requests differ at the first byte, `POST`/`PUT` at the second).
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type Codec = 'h1' | 'h2';

/** The codec the bytes so far reveal, or undefined when they are a prefix of the HTTP/2 preface. */
export function detectCodec(bytes: Buffer): Codec | undefined {
  const n = Math.min(bytes.length, PREFACE.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== PREFACE[i]) return 'h1';
  }
  return n === PREFACE.length ? 'h2' : undefined;
}

/** The codec ALPN negotiated on a TLS socket, if any. */
export function alpnCodec(socket: Socket): Codec | undefined {
  const alpn = (socket as Partial<TLSSocket>).alpnProtocol;
  if (alpn === 'h2') return 'h2';
  if (alpn === 'http/1.1' || alpn === 'http/1.0') return 'h1';
  return undefined;
}

/**
 * Reads from `socket` (after `preread`) until the codec is known, then calls `done` with the codec and
 * every byte read so far (to replay), with the socket paused. Gives up (`undefined`) when the socket ends
 * or `timeoutMs` passes first.
 */
export function sniffCodec(socket: Socket, preread: Buffer | undefined, timeoutMs: number, done: (codec: Codec | undefined, bytes: Buffer) => void): void {
  let bytes = preread ?? Buffer.alloc(0);
  const known = bytes.length > 0 ? detectCodec(bytes) : undefined;
  if (known !== undefined) {
    done(known, bytes);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const finish = (codec: Codec | undefined): void => {
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onEnd);
    if (timer !== undefined) clearTimeout(timer);
    socket.pause();
    done(codec, bytes);
  };
  const onData = (chunk: Buffer): void => {
    bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
    const codec = detectCodec(bytes);
    if (codec !== undefined) finish(codec);
  };
  const onEnd = (): void => finish(undefined);
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
  if (timeoutMs > 0) timer = setTimeout(onEnd, timeoutMs);
  socket.resume();
}
