/**
 * The HTTP/2 app, in a process of its own: a node:http2 server on 127.0.0.1 speaking cleartext HTTP/2
 * (prior knowledge, h2c) that answers every request with `argv[2]` bytes (1 KiB), and requests with
 * `content-type: application/grpc` as a unary gRPC method: one length-prefixed message of that size,
 * then trailers with `grpc-status: 0` (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
 * The message bytes are opaque to every proxy, so no protobuf is involved. Sends its port over IPC.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

const BODY_BYTES = Number(process.argv[2] ?? 1024);
const body = Buffer.alloc(BODY_BYTES, 'x');
const grpcMessage = Buffer.concat([Buffer.from([0, (BODY_BYTES >>> 24) & 0xff, (BODY_BYTES >>> 16) & 0xff, (BODY_BYTES >>> 8) & 0xff, BODY_BYTES & 0xff]), body]);

const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on('stream', (stream, headers) => {
  const grpc = String(headers['content-type'] ?? '').startsWith('application/grpc');
  // Read the request to its end before replying, as a real handler would.
  stream.on('data', () => {});
  stream.on('error', () => {});
  stream.on('end', () => {
    if (stream.destroyed) return;
    if (!grpc) {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': BODY_BYTES });
      stream.end(body);
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(grpcMessage);
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
