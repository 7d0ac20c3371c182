/**
 * Persistence of applied config (what `weft apply` sent) under the state directory, so a restart of the
 * control plane loses nothing. A snapshot file, replaced atomically (write a temp file, then rename: a
 * crash leaves the old or the new file, never half of one), plus a journal of the changes since: one
 * JSON line per resource put or deleted, appended before the change takes effect. An apply then writes
 * what it changed, not the whole config (a VirtualService change at 4,000 resources costs a line, not
 * megabytes); the journal is folded into a new snapshot every so often. Replaying it is idempotent, so a
 * crash between writing a snapshot and emptying the journal loses nothing either.
 */
import { appendFile, mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig, formatProblem, resourceKey, type AnyResource } from '../../api/index.ts';

export const STATE_FILE = 'applied.json';
export const JOURNAL_FILE = 'applied.journal';
const FORMAT = 1;
let tmpCounter = 0;

export interface AppliedRecord {
  readonly resource: AnyResource;
  /** When this resource was first applied (ISO 8601): what `weft get` shows as AGE. */
  readonly createdAt: string;
  /** When it was last changed (ISO 8601): orders it against watched files across restarts. */
  readonly changedAt: string;
}

interface RawRecord { readonly createdAt: string; readonly changedAt?: string; readonly resource: unknown }

interface StateFile {
  readonly format: number;
  readonly resources: readonly RawRecord[];
}

/** A journal line: a resource applied (put) or deleted by key. */
type JournalEntry = { readonly put: RawRecord } | { readonly delete: string };

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
 * Reads the applied resources: the snapshot, then the journal replayed over it. Each is validated again
 * (the schema may have grown stricter since it was applied): one that no longer validates is left out
 * and reported through `log`. A journal line cut short (a crash while appending) is ignored when last.
 */
export async function loadAppliedState(stateDir: string, log: (line: string) => void): Promise<{ records: AppliedRecord[]; journalEntries: number }> {
  const path = join(stateDir, STATE_FILE);
  const text = await readOptional(path);
  let state: StateFile = { format: FORMAT, resources: [] };
  if (text !== undefined) {
    try {
      state = JSON.parse(text) as StateFile;
      if (state.format !== FORMAT || !Array.isArray(state.resources)) throw new Error(`unknown format ${String(state.format)}`);
    } catch (e) {
      throw new StateError('STATE_CORRUPT', `${path} is not a weft state file (${(e as Error).message}); move it away to start without applied config`, e);
    }
  }
  const byKey = new Map<string, AppliedRecord>();
  for (const rec of state.resources) put(byKey, rec, path, log);
  const journal = await readJournal(stateDir, log);
  for (const entry of journal) {
    if ('delete' in entry) byKey.delete(entry.delete);
    else put(byKey, entry.put, join(stateDir, JOURNAL_FILE), log);
  }
  return { records: [...byKey.values()], journalEntries: journal.length };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateError('STATE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, e);
  }
}

async function readJournal(stateDir: string, log: (line: string) => void): Promise<JournalEntry[]> {
  const path = join(stateDir, JOURNAL_FILE);
  const lines = ((await readOptional(path)) ?? '').split('\n');
  const out: JournalEntry[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const entry = JSON.parse(line) as JournalEntry;
      if (!('put' in entry) && !('delete' in entry)) throw new Error('neither put nor delete');
      out.push(entry);
    } catch (e) {
      const last = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!last) throw new StateError('STATE_CORRUPT', `${path}:${i + 1} is not a journal entry (${(e as Error).message}); move it away to start from the last snapshot`, e);
      log(`${path}:${i + 1}: ignoring a journal entry cut short (the control plane stopped while writing it)`);
    }
  });
  return out;
}

/** Validates one stored record and puts it under its key (or reports why it is left out). */
function put(byKey: Map<string, AppliedRecord>, rec: RawRecord, path: string, log: (line: string) => void): void {
  const set = parseConfig(JSON.stringify(rec.resource), path);
  for (const p of set.problems) if (p.severity === 'error') log(`${formatProblem(p)} (applied earlier; no longer valid, left out)`);
  const [resource] = set.resources;
  if (resource !== undefined && set.problems.every((p) => p.severity !== 'error')) {
    const { source: _s, ...clean } = resource;
    const record = { resource: clean as AnyResource, createdAt: rec.createdAt, changedAt: rec.changedAt ?? rec.createdAt };
    byKey.delete(resourceKey(record.resource)); // re-applied: it moves to the end, as the store orders changes
    byKey.set(resourceKey(record.resource), record);
  }
}

/** Appends changes to the journal (before they take effect). */
export async function journalAppliedChanges(stateDir: string, puts: readonly AppliedRecord[], deletes: readonly string[]): Promise<void> {
  const path = join(stateDir, JOURNAL_FILE);
  const lines = [...puts.map((r) => JSON.stringify({ put: r })), ...deletes.map((k) => JSON.stringify({ delete: k }))];
  try {
    await mkdir(stateDir, { recursive: true });
    await appendFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });
  } catch (e) {
    throw new StateError('STATE_UNWRITABLE', `cannot write ${path}: ${(e as Error).message}`, e);
  }
}

/** Replaces the snapshot with `records` (atomically), then empties the journal it now holds. */
export async function saveAppliedState(stateDir: string, records: readonly AppliedRecord[]): Promise<void> {
  const path = join(stateDir, STATE_FILE);
  const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`;
  const state: StateFile = { format: FORMAT, resources: records.map((r) => ({ createdAt: r.createdAt, changedAt: r.changedAt, resource: r.resource })) };
  try {
    await mkdir(stateDir, { recursive: true });
    await writeFile(tmp, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
    await rename(tmp, path);
    await rm(join(stateDir, JOURNAL_FILE), { force: true });
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new StateError('STATE_UNWRITABLE', `cannot write ${path}: ${(e as Error).message}`, e);
  }
}
