/**
 * Real loopback TCP servers and clients for proxy tests: an echo server (half-close aware), servers
 * that announce a tag or record what they receive, a port nobody listens on, and small client helpers
 * that await conditions instead of sleeping.
 */
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export interface TestServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<TestServer> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Echoes every byte; ends its side when the client ends its own (half-close). */
export function echoServer(): Promise<TestServer> {
  return listen(createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  }));
}

/** Writes `tag\n` on connect, then echoes. */
export function tagServer(tag: string): Promise<TestServer> {
  return listen(createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.write(`${tag}\n`);
    s.pipe(s);
  }));
}

/** Calls `onData` with everything received so far on each connection. */
export function recordingServer(onData: (received: Buffer, socket: Socket) => void): Promise<TestServer> {
  return listen(createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    let received = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      onData(received, s);
    });
  }));
}

/** A loopback port with no listener (connecting to it is refused). */
export async function closedPort(): Promise<number> {
  const s = await listen(createServer());
  await s.close();
  return s.port;
}

export async function dial(port: number, host = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ host, port, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/** Tests fail instead of hanging when the proxy never answers. */
const READ_TIMEOUT_MS = 5000;

/** Reads until `predicate(received)` holds; rejects if the socket closes first or nothing fits in time. */
export function readUntil(socket: Socket, predicate: (received: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const timer = setTimeout(() => fail(`timed out after ${JSON.stringify(received.slice(0, 200))}`), READ_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (predicate(received)) {
        cleanup();
        resolve(received);
      }
    };
    const onClose = (): void => fail(`socket closed after ${JSON.stringify(received.slice(0, 200))}`);
    const fail = (why: string): void => {
      cleanup();
      reject(new Error(why));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Writes `text` and resolves with the echoed text. */
export function roundTrip(socket: Socket, text: string): Promise<string> {
  socket.write(text);
  return readUntil(socket, (r) => r.length >= text.length);
}

/** Everything the peer sends until it closes (or ends) the connection. */
export async function readAll(socket: Socket): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  const signal = AbortSignal.timeout(READ_TIMEOUT_MS);
  await Promise.race([once(socket, 'end', { signal }), once(socket, 'close', { signal })]);
  return received;
}
