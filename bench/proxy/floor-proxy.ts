/**
 * The floor a Node proxy stands on: a forward proxy with nothing but node:http's server and weft's
 * HTTP/1.1 upstream pool (what weft's HTTP/1.1 path is built on), copying status, headers and body.
 * No routing, stats, timeouts or header rules. `ab.ts --floor` runs it beside weft to show how much
 * of weft's CPU the server and the pool alone cost. argv: upstream port, listen port; sends `up` over
 * IPC once listening.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { H1Pool, plainConnector } from '../../src/proxy/upstream/http1/pool.ts';

const http = process.getBuiltinModule('node:http');

if (process.argv[2] === '--warm') process.exit(0); // ab.ts: fills Node's compile cache
const [upstreamPort, listenPort] = [Number(process.argv[2]), Number(process.argv[3])];
const pool = new H1Pool({
  authority: `127.0.0.1:${upstreamPort}`,
  maxConnections: 64,
  idleTimeoutMs: 0,
  connect: plainConnector('127.0.0.1', upstreamPort),
});

const server = http.createServer((req, res) => {
  const headers: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (name !== 'connection' && name !== 'keep-alive' && name !== 'proxy-connection') headers.push(name, req.rawHeaders[i + 1]!);
  }
  const path = req.url!.startsWith('http') ? new URL(req.url!).pathname : req.url!;
  pool.dispatch({ path, method: req.method as 'GET', headers }, {
    onRequestStart() {},
    onResponseStart(_c: unknown, status: number, h: IncomingHttpHeaders) {
      delete h['connection'];
      delete h['keep-alive'];
      res.writeHead(status, h);
    },
    onResponseData(_c: unknown, chunk: Buffer) {
      res.write(chunk);
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError(_c: unknown, e: Error) {
      if (!res.headersSent) res.writeHead(503);
      res.end(e.message);
    },
  });
  req.resume();
});
server.keepAliveTimeout = 60_000;
server.listen(listenPort, '127.0.0.1', () => process.send?.('up'));
process.on('disconnect', () => process.exit(0));
