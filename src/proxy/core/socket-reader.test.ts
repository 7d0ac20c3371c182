import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { SocketReader } from './socket-reader.ts';

/** A loopback server that runs `onConnection` for each connection; closed after the suite. */
async function server(onConnection: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer(onConnection);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  after(() => srv.close());
  return (srv.address() as net.AddressInfo).port;
}

function connect(port: number, reader: SocketReader): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, onread: reader.onread });
  after(() => socket.destroy());
  return once(socket, 'connect').then(() => socket);
}

const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('SocketReader', () => {
  it('hands out reads that stay intact while later reads land in the shared buffer', async () => {
    // Two sockets, each sent a different byte over and over: every chunk kept must still hold only its own.
    const port = await server((s) => {
      s.once('data', (d: Buffer) => {
        const fill = d[0]!;
        let left = 40;
        const next = (): void => {
          if (left-- === 0) return void s.end();
          s.write(Buffer.alloc(3000 + left * 101, fill), next);
        };
        next();
      });
    });
    const kept = new Map<number, Buffer[]>([[0x61, []], [0x62, []]]);
    const ends: Promise<unknown>[] = [];
    for (const fill of kept.keys()) {
      const reader = new SocketReader();
      const socket = await connect(port, reader);
      reader.target = (chunk) => kept.get(fill)!.push(chunk);
      ends.push(once(socket, 'end'));
      socket.write(Buffer.of(fill));
    }
    await Promise.all(ends);
    for (const [fill, chunks] of kept) {
      const all = Buffer.concat(chunks);
      assert.equal(all.length, Array.from({ length: 40 }, (_, i) => 3000 + i * 101).reduce((a, b) => a + b));
      assert.ok(all.every((b) => b === fill), `socket ${String.fromCharCode(fill)} kept only its own bytes`);
    }
  });

  it('stops delivering while the socket is paused and goes on after resume', async () => {
    let peer: net.Socket | undefined;
    const port = await server((s) => (peer = s));
    const reader = new SocketReader();
    const socket = await connect(port, reader);
    const got: string[] = [];
    reader.target = (chunk) => {
      got.push(chunk.toString());
      socket.pause();
    };
    await until(() => peer !== undefined);
    peer!.write('one');
    await until(() => got.length === 1);
    peer!.write('two');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, ['one'], 'nothing is read while paused');
    socket.resume();
    await until(() => got.length === 2);
    assert.deepEqual(got, ['one', 'two']);
  });

  it('delivers what came before a target was set, first', async () => {
    const port = await server((s) => s.write('early'));
    const reader = new SocketReader();
    const socket = await connect(port, reader);
    await new Promise((r) => setTimeout(r, 50));
    const got: string[] = [];
    reader.target = (chunk) => got.push(chunk.toString());
    assert.deepEqual(got, ['early']);
    socket.destroy();
  });

  it('hands reading back to the stream: data events, with backpressure', async () => {
    let peer: net.Socket | undefined;
    const port = await server((s) => (peer = s));
    const reader = new SocketReader();
    const socket = await connect(port, reader);
    reader.target = () => assert.fail('the target is no longer called');
    reader.toStream(socket);
    await until(() => peer !== undefined);
    // Not flowing yet: more than the stream's high-water mark arrives and waits in it, then reading stops.
    const big = Buffer.alloc(1024 * 1024, 0x7a);
    peer!.write(big);
    await until(() => socket.readableLength >= socket.readableHighWaterMark);
    const buffered = socket.readableLength;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(socket.readableLength, buffered, 'reading stopped at the high-water mark');
    assert.ok(buffered < big.length / 4, `reading stopped near the high-water mark, not after ${buffered} bytes`);
    let total = 0;
    socket.on('data', (d: Buffer) => (total += d.length));
    await until(() => total === big.length);
  });
});
