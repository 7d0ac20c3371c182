/**
 * Starts a real `weft control` process on free ports for end-to-end tests, and talks to its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'weft.js');

export interface ControlProcess {
  readonly xdsPort: number;
  readonly httpUrl: string;
  readonly stateDir: string;
  readonly output: () => string;
  apply(yaml: string): Promise<unknown>;
  get(path: string): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startControl(args: readonly string[] = []): Promise<ControlProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), 'weft-state-'));
  const child: ChildProcess = spawn(process.execPath, [BIN, 'control', '--xds', '127.0.0.1:0', '--http', '127.0.0.1:0', '--state', stateDir, '--debounce', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<{ xdsPort: number; httpUrl: string }>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /xDS on [^:]+:(\d+), HTTP API on (\S+),/.exec(output);
      if (m) resolve({ xdsPort: Number(m[1]), httpUrl: m[2]!.replace(/\/$/, '') });
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`weft control exited (${code}) before it was ready:\n${output}`)));
  });
  const { xdsPort, httpUrl } = await ready;
  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${httpUrl}${path}`, { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/yaml' } } : {}) });
    const json = await res.json() as unknown;
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return {
    xdsPort, httpUrl, stateDir, output: () => output,
    apply: (yaml) => call('POST', '/apply', yaml),
    get: (path) => call('GET', path),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
