import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { collectGarbage } from '../../util/collect-garbage.ts';
import { requestHead } from '../codec/http2/fields.ts';
import { DEFAULT_SETTINGS, H2Session } from '../codec/http2/session.ts';
import { H2Downstream } from './downstream-h2.ts';
import type { DownstreamListener } from './downstream.ts';
import { RequestBody } from './request-body.ts';

describe('HTTP/2 downstream', () => {
  it('serves a request with a body and trailers, and keeps nothing of the exchange once the stream closed', async () => {
    const exchanges: WeakRef<object>[] = [];
    const sessions: H2Session[] = [];
    const server = net.createServer((socket) => {
      sessions.push(new H2Session(socket, 'server', DEFAULT_SETTINGS, {
        stream(stream, fields, endStream) {
          const down = new H2Downstream(stream, requestHead(fields), endStream);
          const listener: DownstreamListener = { downstreamAborted() {}, downstreamClosed() {}, requestTimedOut() {} };
          down.attach(listener);
          // What an exchange hangs on the stream: the request body's listeners, a drain wait, trailers.
          const body = new RequestBody(down.body, 1024);
          const chunks: Buffer[] = [];
          body.onActivity(() => void listener);
          const reader = body.reader();
          reader.on('data', (c: Buffer) => chunks.push(c));
          down.onDrain(() => void listener);
          down.expectTrailers();
          exchanges.push(new WeakRef(listener), new WeakRef(body), new WeakRef(down));
          reader.on('end', () => {
            down.writeHead(200, { 'x-method': down.method, 'X-Mixed-Case': 'yes', connection: 'close' }, false);
            down.write(Buffer.from(`got ${Buffer.concat(chunks).toString()}`));
            down.end({ 'grpc-status': '0' });
          });
        },
        goaway() {},
        close() {},
      }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      for (const method of ['POST', 'GET']) {
        const req = client.request({ ':method': method, ':path': '/' }, { endStream: method === 'GET' });
        if (method === 'POST') req.end('request body');
        const [head] = await once(req, 'response') as [http2.IncomingHttpHeaders];
        assert.equal(head[':status'], 200);
        assert.equal(head['x-method'], method);
        assert.equal(head['x-mixed-case'], 'yes');
        assert.equal(head.connection, undefined, 'connection-specific fields are not sent');
        assert.match(String(head.date), /GMT$/);
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        const [trailers] = await once(req, 'trailers') as [http2.IncomingHttpHeaders];
        assert.equal(trailers['grpc-status'], '0');
        await once(req, 'close');
        assert.equal(text, method === 'POST' ? 'got request body' : 'got ');
      }
      await collectGarbage();
      assert.equal(sessions.length, 1, 'the test still holds the open session');
      assert.deepEqual(exchanges.map((e) => e.deref()), exchanges.map(() => undefined), 'nothing of an exchange is reachable once its stream closed');
    } finally {
      client.destroy();
      server.close();
    }
  });
});
