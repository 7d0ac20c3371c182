/**
 * Persistence of applied config (what `weft apply` sent) under the state directory, so a restart of the
 * control plane loses nothing. One JSON file, replaced atomically (write a temp file, then rename: a
 * crash leaves the old or the new file, never half of one).
 */
import { mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig, formatProblem, type AnyResource } from '../../api/index.ts';

export const STATE_FILE = 'applied.json';
const FORMAT = 1;
let tmpCounter = 0;

export interface AppliedRecord {
  readonly resource: AnyResource;
  /** When this resource was first applied (ISO 8601): what `weft get` shows as AGE. */
  readonly createdAt: string;
  /** When it was last changed (ISO 8601): orders it against watched files across restarts. */
  readonly changedAt: string;
}

interface StateFile {
  readonly format: number;
  readonly resources: readonly { readonly createdAt: string; readonly changedAt?: string; readonly resource: unknown }[];
}

/** The state directory cannot be read or written; `code` says which. */
export class StateError extends Error {
  readonly code: 'STATE_UNREADABLE' | 'STATE_CORRUPT' | 'STATE_UNWRITABLE';
  constructor(code: StateError['code'], message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StateError';
    this.code = code;
  }
}

/**
 * Reads the applied resources. Each is validated again (the schema may have grown stricter since it
 * was applied): one that no longer validates is left out and reported through `log`.
 */
export async function loadAppliedState(stateDir: string, log: (line: string) => void): Promise<AppliedRecord[]> {
  const path = join(stateDir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StateError('STATE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, e);
  }
  let state: StateFile;
  try {
    state = JSON.parse(text) as StateFile;
    if (state.format !== FORMAT || !Array.isArray(state.resources)) throw new Error(`unknown format ${String(state.format)}`);
  } catch (e) {
    throw new StateError('STATE_CORRUPT', `${path} is not a weft state file (${(e as Error).message}); move it away to start without applied config`, e);
  }
  const out: AppliedRecord[] = [];
  for (const rec of state.resources) {
    const set = parseConfig(JSON.stringify(rec.resource), path);
    for (const p of set.problems) if (p.severity === 'error') log(`${formatProblem(p)} (applied earlier; no longer valid, left out)`);
    const [resource] = set.resources;
    if (resource !== undefined && set.problems.every((p) => p.severity !== 'error')) {
      const { source: _s, ...clean } = resource;
      out.push({ resource: clean as AnyResource, createdAt: rec.createdAt, changedAt: rec.changedAt ?? rec.createdAt });
    }
  }
  return out;
}

/** Replaces the state file with `records` (atomically). */
export async function saveAppliedState(stateDir: string, records: readonly AppliedRecord[]): Promise<void> {
  const path = join(stateDir, STATE_FILE);
  const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`;
  const state: StateFile = { format: FORMAT, resources: records.map((r) => ({ createdAt: r.createdAt, changedAt: r.changedAt, resource: r.resource })) };
  try {
    await mkdir(stateDir, { recursive: true });
    await writeFile(tmp, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new StateError('STATE_UNWRITABLE', `cannot write ${path}: ${(e as Error).message}`, e);
  }
}
