import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { collectGarbage } from '../../util/collect-garbage.ts';
import { ErrorCode } from '../codec/http2/frames.ts';
import { requestHead } from '../codec/http2/fields.ts';
import { DEFAULT_SETTINGS, H2Session } from '../codec/http2/session.ts';
import type { H2Stream } from '../codec/http2/stream.ts';
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

  it('hands request trailers on with the end of the body, and resets the stream on malformed ones', async () => {
    /** Just what H2Downstream calls on its stream here, recording resets. */
    const stub = (resets: number[]) => ({ pause() {}, resume() {}, reset: (code: number) => resets.push(code), closed: false }) as unknown as H2Stream;
    const head = requestHead([':method', 'POST', ':scheme', 'http', ':path', '/', ':authority', 'a.test']);

    const down = new H2Downstream(stub([]), head, false);
    const body = new RequestBody(down.body, 1024);
    const reader = body.reader() as Readable & { readonly trailers?: readonly string[] };
    const chunks: Buffer[] = [];
    reader.on('data', (c: Buffer) => chunks.push(c));
    down.streamData(Buffer.from('part'), false);
    assert.equal(reader.trailers, undefined, 'no trailers before the end');
    down.streamHeaders(['x-checksum', 'c0ffee', 'x-count', '1'], true);
    await once(reader, 'end');
    assert.equal(Buffer.concat(chunks).toString(), 'part');
    assert.deepEqual(reader.trailers, ['x-checksum', 'c0ffee', 'x-count', '1']);

    const resets: number[] = [];
    const bad = new H2Downstream(stub(resets), head, false);
    const badBody = new RequestBody(bad.body, 1024);
    badBody.reader().resume();
    bad.streamHeaders([':path', '/elsewhere'], true);
    assert.deepEqual(resets, [ErrorCode.PROTOCOL_ERROR], 'a pseudo-header in trailers: the request is malformed');
    assert.equal(badBody.ended, false, 'the body does not end as if the request were complete');
    assert.equal(badBody.trailers, undefined);
  });
});
