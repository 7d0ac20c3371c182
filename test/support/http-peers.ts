/**
 * Test peers for HTTP end-to-end tests, all on loopback with ports from listen(0): HTTP/1.1 and h2c
 * servers, an echo handler, a tiny RFC 6455 WebSocket echo server, a TCP echo server, and clients
 * (node:http, node:http2, raw sockets).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly trailers?: Record<string, string | string[] | undefined>;
}

/** An HTTP/1.1 request through node:http (fresh connection each time). */
export function request(url: string, options: http.RequestOptions & { body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes raw bytes and reads until the server closes or `untilMs` passes. */
export function raw(port: number, data: string | Buffer, untilMs = 2000, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => s.write(data));
    let out = '';
    const timer = setTimeout(() => s.destroy(), untilMs);
    s.on('data', (d) => {
      out += d.toString('latin1');
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', reject);
  });
}

/** An HTTP/2 (prior knowledge) request. */
export async function h2request(url: string, headers: http2.OutgoingHttpHeaders, body?: string): Promise<Reply> {
  const session = http2.connect(url);
  try {
    return await new Promise<Reply>((resolve, reject) => {
      session.on('error', reject);
      const req = session.request(headers);
      let status = 0;
      let responseHeaders: http.IncomingHttpHeaders = {};
      let trailers: Record<string, string | string[] | undefined> | undefined;
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        status = Number(h[':status']);
        responseHeaders = h as http.IncomingHttpHeaders;
      });
      req.on('trailers', (t) => {
        trailers = t as Record<string, string | string[] | undefined>;
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString(), ...(trailers !== undefined ? { trailers } : {}) }));
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    session.close();
  }
}

/** Starts an HTTP/1.1 server on loopback. */
export async function h1Server(handler: http.RequestListener): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Starts an h2c (prior knowledge) server on loopback. */
export async function h2Server(handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void): Promise<{ server: http2.Http2Server; port: number; close(): Promise<void> }> {
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sessions) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** An upstream that answers with what it received, as JSON. */
export function echo(tag: string): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ tag, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString(), httpVersion: req.httpVersion, trailers: req.trailers });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': tag });
      res.end(body);
    });
  };
}

/** The body of a raw HTTP/1.1 response (chunked or not). */
export function rawBody(response: string): string {
  const at = response.indexOf('\r\n\r\n');
  const head = response.slice(0, at).toLowerCase();
  let rest = response.slice(at + 4);
  if (!head.includes('transfer-encoding: chunked')) return rest;
  let out = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
}

/** Resolves when `cond` holds (checked every few ms), failing after `ms`. */
export async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** An RFC 6455 server that echoes text frames (small, unfragmented: enough for tests). */
export async function wsEchoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const srv = await h1Server((_req, res) => {
    res.writeHead(426).end();
  });
  const upgraded = new Set<Socket>();
  srv.server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', (frame: Buffer) => {
      const text = decodeFrame(frame);
      if (text !== undefined) socket.write(encodeFrame(`echo:${text}`, false));
    });
    socket.on('error', () => {});
  });
  return {
    port: srv.port,
    close: () => {
      for (const s of upgraded) s.destroy();
      return srv.close();
    },
  };
}

/** A text frame; clients mask (RFC 6455 §5.3). Payloads under 126 bytes. */
export function encodeFrame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  if (!mask) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, masked]);
}

export function decodeFrame(frame: Buffer): string | undefined {
  if (frame.length < 2) return undefined;
  const masked = (frame[1]! & 0x80) !== 0;
  const len = frame[1]! & 0x7f;
  if (!masked) return frame.subarray(2, 2 + len).toString();
  const key = frame.subarray(2, 6);
  return Buffer.from(frame.subarray(6, 6 + len).map((b, i) => b ^ key[i % 4]!)).toString();
}

/** A TCP server that echoes bytes back prefixed with `echo:`. */
export async function tcpEchoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => s.write(`echo:${d.toString()}`));
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * An upstream that answers each request head it reads (up to the blank line; request bodies are not
 * expected) with the raw bytes `reply` returns for its request line, and leaves the connection open:
 * for responses no HTTP library would send.
 */
export async function rawServer(reply: (requestLine: string) => string | Buffer): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    let text = '';
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      let end: number;
      while ((end = text.indexOf('\r\n\r\n')) >= 0) {
        const line = text.slice(0, text.indexOf('\r\n'));
        text = text.slice(end + 4);
        s.write(reply(line));
      }
    });
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Opens a raw connection and returns helpers to write and await the next data. */
export function rawConnection(port: number): Promise<{ socket: Socket; write(d: string | Buffer): void; next(): Promise<Buffer>; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const queue: Buffer[] = [];
    const waiters: ((b: Buffer) => void)[] = [];
    socket.on('data', (d: Buffer) => {
      const w = waiters.shift();
      if (w !== undefined) w(d);
      else queue.push(d);
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({
      socket,
      write: (d) => socket.write(d),
      next: () => new Promise<Buffer>((r) => {
        const q = queue.shift();
        if (q !== undefined) r(q);
        else waiters.push(r);
      }),
      closed,
    }));
    socket.once('error', reject);
  });
}
