/**
 * Finding the local control plane without flags: `weft control` writes the addresses it bound to
 * `<state dir>/control.json` (and removes it when it stops); `weft proxy`, `weft gateway`, `weft run`
 * and `weft apply/get/delete` read it from the default state directory (`./.weft`, or `$WEFT_STATE`)
 * when neither a flag nor an environment variable names the control plane. A file left by a control
 * plane that is gone (its pid no longer runs) is ignored.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_STATE_DIR = '.weft';
const FILE = 'control.json';

export interface ControlAddresses {
  /** ADS, `host:port`. */
  readonly xds: string;
  /** HTTP API, `host:port`. */
  readonly http: string;
  readonly pid: number;
}

/** Records where this control plane listens. */
export async function writeControlAddresses(stateDir: string, addresses: ControlAddresses): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, FILE), `${JSON.stringify(addresses)}\n`, { mode: 0o600 });
}

/** Removes the record (when the control plane stops). */
export async function removeControlAddresses(stateDir: string): Promise<void> {
  await rm(join(stateDir, FILE), { force: true });
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The addresses of a running local control plane, if its state directory says so. */
export function discoverControl(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ControlAddresses | undefined {
  const dir = env['WEFT_STATE'] || join(cwd, DEFAULT_STATE_DIR);
  let parsed: Partial<ControlAddresses>;
  try {
    parsed = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as Partial<ControlAddresses>;
  } catch {
    return undefined;
  }
  if (typeof parsed.xds !== 'string' || typeof parsed.http !== 'string' || typeof parsed.pid !== 'number' || !running(parsed.pid)) return undefined;
  return { xds: parsed.xds, http: parsed.http, pid: parsed.pid };
}

/** The ADS address for a proxy: the flag, `$WEFT_CONTROL`, a discovered local control plane, or undefined (the default). */
export function controlXds(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? (env['WEFT_CONTROL'] ? undefined : discoverControl(env)?.xds);
}
