/**
 * How `weft apply|get|delete` talk to `weft control`: its HTTP API (`--control HOST:PORT`, else
 * `$WEFT_CONTROL_HTTP`, else 127.0.0.1:15014), JSON in and out. Uses `node:http` directly so an
 * `HTTP_PROXY` in the environment never reroutes these loopback calls.
 */
import { request } from 'node:http';
import type { Command } from 'commander';
import { formatProblem, kindByName, type ConfigProblem } from '../api/index.ts';
import { EXIT, type Io } from './io.ts';

import { discoverControl } from './control-discovery.ts';
export const DEFAULT_CONTROL = '127.0.0.1:15014';

export interface ControlOption {
  readonly control?: string;
}

export function addControlOption(cmd: Command): Command {
  return cmd.option('--control <host:port>', `the control plane's HTTP API (default: $WEFT_CONTROL_HTTP, the control plane recorded in ./.weft, or ${DEFAULT_CONTROL})`);
}

/** The base URL of the HTTP API from the option, the environment or the default. */
export function controlUrl(opt: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const addr = opt || env['WEFT_CONTROL_HTTP'] || discoverControl(env)?.http || DEFAULT_CONTROL;
  return /^https?:\/\//.test(addr) ? addr.replace(/\/+$/, '') : `http://${addr}`;
}

/** The control plane cannot be reached (not running, wrong address). */
export class ControlUnreachable extends Error {
  readonly code = 'CONTROL_UNREACHABLE';
  constructor(url: string, cause: Error) {
    super(`cannot reach weft control at ${url.replace(/^http:\/\//, '')}: is it running? (weft control)`, { cause });
    this.name = 'ControlUnreachable';
  }
}

/** Runs a command's action, turning an unreachable control plane into its message and exit code 1. */
export async function guarded(io: Io, setExit: (code: number) => void, action: () => Promise<number>): Promise<void> {
  try {
    setExit(await action());
  } catch (e) {
    if (!(e instanceof ControlUnreachable)) throw e;
    io.stderr.write(`error: ${e.message}\n`);
    setExit(EXIT.problems);
  }
}

/** The JSON error body of the HTTP API. */
export interface ApiError {
  readonly error: string;
  readonly code?: string;
  readonly errors?: readonly ConfigProblem[];
}

export interface ControlResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** One request to the HTTP API; rejects with `ControlUnreachable` when nothing answers. */
export function callControl<T = unknown>(base: string, method: string, path: string, body?: string): Promise<ControlResponse<T>> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(path, `${base}/`);
    } catch (e) {
      reject(new ControlUnreachable(base, e as Error));
      return;
    }
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/yaml', 'content-length': Buffer.byteLength(body) });
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(new ControlUnreachable(base, e)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { error: `unexpected answer from ${base}${path} (HTTP ${res.statusCode}): ${text.slice(0, 200)}` } as T });
        }
      });
    });
    req.on('error', (e) => reject(new ControlUnreachable(base, e)));
    req.end(body);
  });
}

/** kubectl's name for a resource in output: `virtualservice.networking.istio.io/reviews`, `service/reviews`. */
export function resourceRef(kind: string, name: string): string {
  return `${kindRef(kind)}/${name}`;
}

/** `virtualservice.networking.istio.io`, `service`. */
export function kindRef(kind: string, plural = false): string {
  const def = kindByName(kind);
  const base = plural && def !== undefined ? def.plural : kind.toLowerCase();
  return def === undefined || def.group === '' ? base : `${base}.${def.group}`;
}

/** Prints an error answer of the HTTP API (with the config problems it lists); returns the exit code. */
export function reportApiError(io: Io, body: ApiError): number {
  for (const p of body.errors ?? []) io.stderr.write(`${formatProblem(p)}\n`);
  io.stderr.write(`error: ${body.error}\n`);
  return EXIT.problems;
}
