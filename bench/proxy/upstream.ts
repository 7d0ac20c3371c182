/**
 * The app behind the proxies, in a process of its own: a node:http server on 127.0.0.1 that answers
 * every request with `argv[2]` bytes (1 KiB: Istio's benchmark shape). Sends its port over IPC once listening.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY_BYTES = Number(process.argv[2] ?? 1024);
const body = Buffer.alloc(BODY_BYTES, 'x');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY_BYTES });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
