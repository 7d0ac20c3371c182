/**
 * One watched config directory (`weft control --config DIR`): its config files (recursively `*.yaml`,
 * `*.yml`, `*.json`, hidden entries skipped, as `weft validate` reads directories), loaded and validated
 * one file at a time, and reloaded when they change. A burst of file events (an editor's save, a
 * `cp -r`) is coalesced into one batch, so the store publishes one snapshot for it.
 *
 * It only reports what it read; which version of a file stays in force is the store's decision.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { parseConfig, type AnyResource, type ConfigProblem } from '../../api/index.ts';

const CONFIG_FILE = /\.(ya?ml|json)$/i;
/** Longest a continuous burst of events may postpone a reload. */
const MAX_BURST_MS = 1000;

/** The result of reading one file; `resources` undefined means the file is gone. */
export interface FileLoad {
  /** Absolute path: the file's identity. */
  readonly file: string;
  /** How messages name it (relative to the working directory when inside it, as the validator does). */
  readonly display: string;
  readonly resources: readonly AnyResource[] | undefined;
  readonly problems: readonly ConfigProblem[];
  readonly hasErrors: boolean;
  /** The file's modification time when read (0 when gone). */
  readonly mtimeMs: number;
}

export interface WatchedDirectoryOptions {
  /** How long to wait for a burst of events to settle (default 50 ms). */
  readonly coalesceMs?: number;
  readonly log: (line: string) => void;
}

/** A `--config` directory that does not exist or is not a directory. */
export class ConfigDirError extends Error {
  readonly code = 'CONFIG_DIR_UNREADABLE';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'ConfigDirError';
  }
}

export class WatchedDirectory {
  readonly dir: string;
  readonly #onLoads: (loads: readonly FileLoad[]) => void;
  readonly #coalesceMs: number;
  readonly #log: (line: string) => void;
  readonly #known = new Set<string>();
  #watcher: FSWatcher | undefined;
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #work: Promise<void> = Promise.resolve();
  #closed = false;
  #burstStart = 0;

  /** `onLoads` receives every batch of changed files after `start()`. */
  constructor(dir: string, onLoads: (loads: readonly FileLoad[]) => void, opts: WatchedDirectoryOptions) {
    this.dir = resolve(dir);
    this.#onLoads = onLoads;
    this.#coalesceMs = opts.coalesceMs ?? 50;
    this.#log = opts.log;
  }

  /** Reads every file once and starts watching; returns the initial loads. */
  async start(): Promise<FileLoad[]> {
    try {
      if (!(await stat(this.dir)).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new ConfigDirError(`--config ${this.dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`, e);
    }
    // Watch before the first scan so that nothing written in between is missed.
    this.#watcher = watch(this.dir, { recursive: true }, (_event, name) => this.#changed(name));
    this.#watcher.on('error', (e) => this.#log(`config: watching ${this.dir} failed: ${e.message}`));
    const files = await this.#list();
    const loads: FileLoad[] = [];
    for (const f of files) {
      this.#known.add(f);
      loads.push(await loadFile(f));
    }
    return loads;
  }

  /** Stops watching; resolves when a batch being read has been delivered. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#work;
  }

  #changed(name: string | Buffer | null): void {
    if (this.#closed) return;
    if (this.#pending.size === 0) this.#burstStart = performance.now();
    this.#pending.add(name === null ? this.dir : join(this.dir, name.toString()));
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // Wait for the burst to settle, but not forever: a directory written to without pause still reloads.
    const wait = performance.now() - this.#burstStart > MAX_BURST_MS ? 0 : this.#coalesceMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const pending = this.#pending;
      this.#pending = new Set();
      this.#work = this.#work.then(() => this.#reload(pending)).catch((e: unknown) => this.#log(`config: reloading ${this.dir} failed: ${String(e)}`));
    }, wait);
  }

  /** Reloads files named by events (or under a directory named by one), new files, and removed ones. */
  async #reload(pending: ReadonlySet<string>): Promise<void> {
    const present = new Set(await this.#list());
    const loads: FileLoad[] = [];
    for (const f of this.#known) {
      if (!present.has(f)) {
        this.#known.delete(f);
        loads.push({ file: f, display: displayName(f), resources: undefined, problems: [], hasErrors: false, mtimeMs: 0 });
      }
    }
    for (const f of present) {
      if (this.#known.has(f) && !touches(pending, f)) continue;
      this.#known.add(f);
      const load = await loadFile(f);
      if (load.resources === undefined) this.#known.delete(f);
      loads.push(load);
    }
    if (loads.length > 0 && !this.#closed) this.#onLoads(loads);
  }

  async #list(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
    } catch (e) {
      this.#log(`config: cannot list ${this.dir}: ${(e as Error).message}`);
      return [...this.#known];
    }
    const out: string[] = [];
    for (const e of entries) {
      if (!e.isFile() || !CONFIG_FILE.test(e.name)) continue;
      const full = join(e.parentPath, e.name);
      if (relative(this.dir, full).split(sep).some((seg) => seg.startsWith('.'))) continue;
      out.push(full);
    }
    return out.sort();
  }
}

/** Whether an event named `file` or a directory above it. */
function touches(pending: ReadonlySet<string>, file: string): boolean {
  if (pending.has(file)) return true;
  for (const p of pending) if (file.startsWith(p + sep)) return true;
  return false;
}

function displayName(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') ? file : rel;
}

async function loadFile(file: string): Promise<FileLoad> {
  const display = displayName(file);
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(file)).mtimeMs;
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file, display, resources: undefined, problems: [], hasErrors: false, mtimeMs: 0 };
    const problem: ConfigProblem = { severity: 'error', file: display, line: 0, field: '', message: `cannot read: ${(e as Error).message}` };
    return { file, display, resources: [], problems: [problem], hasErrors: true, mtimeMs: 0 };
  }
  const set = parseConfig(text, display);
  return { file, display, resources: set.resources, problems: set.problems, hasErrors: set.problems.some((p) => p.severity === 'error'), mtimeMs };
}
