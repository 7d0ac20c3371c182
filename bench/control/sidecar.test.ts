import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { encodeSotwResponse } from '../../src/control/ads/wire.ts';
import { TYPE } from '../../src/xds/type-urls.ts';
import { Sidecar } from './sidecar.ts';
import { RequestCodec } from './sidecar-wire.ts';
import { sidecarNode } from './mesh.ts';

function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

describe('simulated sidecar', () => {
  it('reconnects after the server resets its stream, subscribes afresh and ACKs the new stream', async () => {
    const server = http2.createServer();
    let streams = 0;
    server.on('stream', (stream) => {
      streams++;
      stream.on('error', () => {}); // the reset below is the test's doing
      if (streams === 1) {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR); // the first stream fails
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(grpcFrame(encodeSotwResponse(TYPE.cluster, 'v1', 'n1', [], 'test')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const codec = new RequestCodec('sotw');
    const acked = Promise.withResolvers<string>();
    const sidecar = new Sidecar({
      index: 0, target: `127.0.0.1:${(server.address() as AddressInfo).port}`, node: codec.node(sidecarNode(0, false)),
      subscriptions: new Map([[TYPE.cluster, codec.subscription(TYPE.cluster, [])]]),
      ackBases: new Map([[TYPE.cluster, codec.ackBase(TYPE.cluster, [])]]),
      codec, onAck: (_s, head) => acked.resolve(head.versionInfo),
    });
    try {
      sidecar.start();
      assert.equal(await acked.promise, 'v1');
      assert.equal(streams, 2);
      assert.equal(sidecar.failures, 1);
      assert.match(String(sidecar.error?.message), /INTERNAL_ERROR|code 2/);
      assert.equal(sidecar.resourcesReceived.get(TYPE.cluster), 0);
    } finally {
      sidecar.close();
      server.close();
    }
  });
});
