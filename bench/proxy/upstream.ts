/**
 * The app behind the proxies, in a process of its own on 127.0.0.1: answers every HTTP/1.1 request with
 * `argv[2]` bytes (1 KiB: Istio's benchmark shape) on keep-alive connections. Like fortio's server in
 * Istio's benchmark it does no more than that: a request is its head up to the blank line (plus any
 * `content-length` body, skipped; the benchmarks send no chunked one), the reply one prepared buffer:
 * 0.025 vCPU per 1000 rps, where node:http's server took 0.065 from the CPU sidecar B shares with
 * it. Sends its port over IPC once listening.
 */
import net, { type AddressInfo } from 'node:net';

const BODY_BYTES = Number(process.argv[2] ?? 1024);
const REPLY = Buffer.concat([
  Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${BODY_BYTES}\r\n\r\n`, 'latin1'),
  Buffer.alloc(BODY_BYTES, 'x'),
]);
const BAD = Buffer.from('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

function serve(socket: net.Socket): void {
  socket.setNoDelay(true);
  let held: Buffer | undefined; // an incomplete head
  let skip = 0; // body bytes of the current request still to come
  socket.on('data', (chunk: Buffer) => {
    let buf = held === undefined ? chunk : Buffer.concat([held, chunk]);
    held = undefined;
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
        if (skip > 0) return;
      }
      if (buf.length === 0) return;
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > 64 * 1024) socket.end(BAD);
        else held = Buffer.from(buf);
        return;
      }
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(buf.toString('latin1', 0, end));
      skip = length === null ? 0 : Number(length[1]);
      buf = buf.subarray(end + 4);
      socket.write(REPLY);
    }
  });
  socket.on('error', () => socket.destroy());
}

const server = net.createServer(serve);
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
