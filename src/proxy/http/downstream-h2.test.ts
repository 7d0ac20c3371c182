import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { collectGarbage } from '../../util/collect-garbage.ts';
import { H2Downstream } from './downstream-h2.ts';
import type { DownstreamListener } from './downstream.ts';
import { RequestBody } from './request-body.ts';

describe('HTTP/2 downstream', () => {
  it('leaves nothing of the exchange on its closed stream, which lives on until a full GC', async () => {
    const streams: http2.ServerHttp2Stream[] = [];
    const exchanges: WeakRef<object>[] = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers, _flags, raw: string[]) => {
      streams.push(stream);
      const down = new H2Downstream(stream, headers, raw.length / 2);
      const listener: DownstreamListener = { downstreamAborted() {}, downstreamClosed() {}, requestTimedOut() {} };
      down.attach(listener);
      // What an exchange hangs on the stream: the request body's listeners, a drain wait, trailers.
      const body = new RequestBody(down.body, 1024);
      body.onActivity(() => void listener);
      body.reader().resume();
      down.onDrain(() => void listener);
      down.expectTrailers();
      exchanges.push(new WeakRef(listener), new WeakRef(body), new WeakRef(down));
      body.onEnd(() => {
        down.writeHead(200, {}, false);
        down.write(Buffer.from('ok'));
        down.end({ 'grpc-status': '0' });
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      for (const method of ['POST', 'GET']) {
        const req = client.request({ ':method': method, ':path': '/' }, { endStream: method === 'GET' });
        if (method === 'POST') req.end('request body');
        req.resume();
        await once(req, 'close');
      }
      while (!streams.every((s) => s.closed) || streams.length < 2) await new Promise((r) => setTimeout(r, 5));
      await collectGarbage();
      assert.equal(streams.length, 2, 'the test still holds both closed streams');
      assert.deepEqual(exchanges.map((e) => e.deref()), exchanges.map(() => undefined), 'nothing of an exchange is reachable from its closed stream');
    } finally {
      client.destroy();
      server.close();
    }
  });
});
