/**
 * Real `weft proxy` sidecars for end-to-end tests: a free 127.0.1.x address per sidecar (every port a
 * sidecar binds free on it), the sidecar as a child process, small HTTP apps to put behind one, and
 * HTTP requests sent through a sidecar's outbound listener as an HTTP proxy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { canBind } from '../../src/run/addresses.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'weft.js');
/** Admin, outbound, inbound, health, Prometheus, and the mesh port the tests' services use. */
const SIDECAR_PORTS = [15000, 15001, 15006, 15021, 15090, 9080];

/** A 127.0.1.x address where every port a sidecar binds is free (randomized start, so parallel test files rarely collide). */
export async function freeLoopback(taken: Set<string>, ports: readonly number[] = SIDECAR_PORTS): Promise<string> {
  const start = 100 + Math.floor(Math.random() * 100);
  for (let i = 0; i < 150; i++) {
    const ip = `127.0.1.${((start + i - 2) % 252) + 2}`;
    if (taken.has(ip)) continue;
    let free = true;
    for (const p of ports) if (!(await canBind(ip, p))) free = false;
    if (free) {
      taken.add(ip);
      return ip;
    }
  }
  throw new Error('no free 127.0.1.x address');
}

export interface ProxyProcess {
  readonly ip: string;
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

/** `weft proxy --ip <ip> …args` as a child process, its output collected; `env` adds to the environment. */
export function startSidecar(args: readonly string[], ip: string, env: Record<string, string> = {}): ProxyProcess {
  const child = spawn(process.execPath, [BIN, 'proxy', '--ip', ip, '--drain-timeout', '1000', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { ip, child, output: () => output, exited };
}

/** An app on a free 127.0.0.1 port that answers every request with its `name`. */
export async function startNamedApp(name: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request through an HTTP proxy (absolute-form target), or a plain one when `proxy` is undefined. */
export function request(url: string, options: { proxy?: string; method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const target = new URL(url);
  const via = options.proxy === undefined ? target : new URL(options.proxy);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: via.hostname, port: via.port, method: options.method ?? 'GET', agent: false,
      path: options.proxy === undefined ? `${target.pathname}${target.search}` : url,
      headers: { host: target.host, ...options.headers },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `request`, or undefined when the connection fails (a listener not up yet). */
export async function tryRequest(url: string, options: Parameters<typeof request>[1] = {}): Promise<Reply | undefined> {
  try {
    return await request(url, options);
  } catch {
    return undefined;
  }
}
