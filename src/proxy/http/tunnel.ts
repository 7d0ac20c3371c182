/**
 * Byte tunnels between the downstream and an upstream connection: CONNECT (terminated here, payload
 * streamed to a TCP connection) and accepted upgrades (WebSocket…). Both directions are piped with
 * backpressure; a close or error on either side closes both.
 */
import type { Duplex } from 'node:stream';

export function splice(a: Duplex, b: Duplex, onClose?: () => void): void {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    a.unpipe(b);
    b.unpipe(a);
    a.destroy();
    b.destroy();
    onClose?.();
  };
  a.on('error', close);
  b.on('error', close);
  a.once('close', close);
  b.once('close', close);
  a.pipe(b);
  b.pipe(a);
}
