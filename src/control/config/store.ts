/**
 * The config store: the resources in force, from watched directories (one source per file) and from
 * applied config (`weft apply`, persisted under the state directory). Every change publishes a new
 * immutable `ConfigSnapshot` synchronously to the listeners; debouncing pushes is the caller's job.
 *
 * Which definition is in force: when several sources define the same kind/namespace/name, the most
 * recent change wins (a file edited after an apply overrides it, and an apply after the edit overrides
 * the file), as with `kubectl apply` racing a GitOps sync. When the winner goes away (file deleted,
 * resource deleted) the other source's definition comes back into force. Across a restart the order
 * holds: files loaded at start date from their modification time, applied resources from the persisted
 * time of their last apply.
 *
 * A file with errors changes nothing: its last good version stays in force and its problems are kept
 * for `/debug/configz` (a file seen for the first time contributes the resources that are valid).
 */
import { formatProblem, type AnyResource, type ConfigProblem } from '../../api/index.ts';
import { configSnapshot, orderKeyOfKey, type ConfigSnapshot } from '../config-snapshot.ts';
import { fingerprint, normalize, resourceKey } from './canonical.ts';
import { journalAppliedChanges, loadAppliedState, saveAppliedState, type AppliedRecord } from './applied-state.ts';
import { WatchedDirectory, type FileLoad } from './watched-directory.ts';
import { partitionPoint } from '../../util/sorted.ts';

/** After this many journal entries, the next change writes a fresh snapshot instead. */
const JOURNAL_LIMIT = 500;
/** Up to this many changed keys, the snapshot order is patched rather than sorted again. */
const REORDER_PATCH_LIMIT = 64;

export const APPLIED = 'applied';

/** Where a resource in force comes from. */
export type ConfigSource = { readonly type: 'applied' } | { readonly type: 'file'; readonly file: string };

export interface InForce {
  readonly key: string;
  readonly resource: AnyResource;
  readonly source: ConfigSource;
  /** When the resource was created (first applied, or first read from its file), ISO 8601. */
  readonly createdAt: string;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';
export interface ApplyResult { readonly key: string; readonly resource: AnyResource; readonly action: ApplyAction }

export type DeleteAction = 'deleted' | 'not-found' | 'defined-in-file';
export interface DeleteResult {
  readonly key: string;
  readonly action: DeleteAction;
  /** For `defined-in-file`, and for `deleted` when a file still defines the resource (it is back in force). */
  readonly file?: string;
}

export type ConfigListener = (snapshot: ConfigSnapshot, changedKeys: ReadonlySet<string>) => void;

export interface ConfigStoreOptions {
  /** Directories to load and watch (`--config`, repeatable). */
  readonly configDirs?: readonly string[];
  /** Where applied config is persisted (`--state`, default `./.weft`). */
  readonly stateDir?: string;
  /** Where problems and events are reported (default: stderr), one line each. */
  readonly log?: (line: string) => void;
  /** How long a burst of file events is coalesced (default 50 ms). */
  readonly coalesceMs?: number;
}

interface Entry {
  readonly resource: AnyResource;
  readonly fingerprint: string;
  /**
   * When this definition last changed (ms since the epoch; file mtime or persisted time for what was
   * loaded at start), strictly increasing for changes seen live: the highest is in force.
   */
  readonly changedAt: number;
  readonly createdAt: string;
}

/** `file:<absolute path>` or `applied`. */
type SourceId = string;

/** Keys in force in snapshot order, their sort keys at the same positions, and the set of them. */
interface SnapshotOrder {
  readonly keys: string[];
  readonly sortKeys: string[];
  readonly known: Set<string>;
}

export class ConfigStore {
  readonly #stateDir: string;
  readonly #log: (line: string) => void;
  readonly #sources = new Map<SourceId, Map<string, Entry>>();
  readonly #sourcesByKey = new Map<string, Set<SourceId>>();
  readonly #inForce = new Map<string, { entry: Entry; source: SourceId }>();
  readonly #problems = new Map<string, readonly ConfigProblem[]>();
  readonly #listeners = new Set<ConfigListener>();
  /** Entries in the applied-state journal since its last snapshot. */
  #journalEntries = 0;
  readonly #dirs: WatchedDirectory[] = [];
  #lastChange = 0;
  #snapshot: ConfigSnapshot = configSnapshot(0, []);
  /** Keys in force in snapshot order (see `#publish`). */
  #order: SnapshotOrder | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(opts: ConfigStoreOptions) {
    this.#stateDir = opts.stateDir ?? '.weft';
    this.#log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Loads applied state and every watched directory, then starts watching. Throws `StateError`/`ConfigDirError`. */
  static async open(opts: ConfigStoreOptions = {}): Promise<ConfigStore> {
    const store = new ConfigStore(opts);
    const { records: applied, journalEntries } = await loadAppliedState(store.#stateDir, store.#log);
    store.#journalEntries = journalEntries;
    const entries = new Map<string, Entry>();
    for (const a of applied) {
      const key = resourceKey(a.resource);
      entries.set(key, { resource: a.resource, fingerprint: fingerprint(a.resource), changedAt: Date.parse(a.changedAt) || 0, createdAt: a.createdAt });
    }
    store.#install(APPLIED, entries);
    try {
      for (const dir of opts.configDirs ?? []) {
        const wd = new WatchedDirectory(dir, (loads) => store.#fileLoads(loads, undefined), { log: store.#log, ...(opts.coalesceMs === undefined ? {} : { coalesceMs: opts.coalesceMs }) });
        store.#dirs.push(wd);
        // At start, a file's definitions date from its modification time, so an apply made after the
        // file was last edited stays in force across a restart.
        store.#fileLoads(await wd.start(), (load) => load.mtimeMs);
      }
    } catch (e) {
      await store.close();
      throw e;
    }
    store.#publish(new Set(store.#inForce.keys()));
    return store;
  }

  /** The config in force now. */
  snapshot(): ConfigSnapshot {
    return this.#snapshot;
  }

  /** Registers a listener, called synchronously after each published change; returns its remover. */
  onChange(listener: ConfigListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every resource in force with where it comes from, in snapshot order. */
  inForce(): InForce[] {
    return this.#snapshot.resources.map((r) => this.describe(resourceKey(r))).filter((x): x is InForce => x !== undefined);
  }

  describe(key: string): InForce | undefined {
    const f = this.#inForce.get(key);
    if (f === undefined) return undefined;
    const source: ConfigSource = f.source === APPLIED ? { type: 'applied' } : { type: 'file', file: f.source.slice('file:'.length) };
    return { key, resource: f.entry.resource, source, createdAt: f.entry.createdAt };
  }

  /** The latest problems (errors and warnings) of each watched file that has any, by file name as displayed. */
  problems(): ReadonlyMap<string, readonly ConfigProblem[]> {
    return this.#problems;
  }

  /**
   * Applies validated resources (later duplicates win), persists them, then publishes. Resolves with
   * what happened to each, judged against the config in force (`unchanged` when identical).
   * Rejects with `StateError` when the state cannot be written; nothing is applied then.
   */
  apply(resources: readonly AnyResource[]): Promise<ApplyResult[]> {
    return this.#exclusive(async () => {
      const now = new Date().toISOString();
      const applied = this.#sources.get(APPLIED) ?? new Map<string, Entry>();
      // Only what this request changes is looked at, written and installed: an apply of one resource
      // among thousands costs in proportion to the one.
      const puts = new Map<string, Entry>();
      const results: ApplyResult[] = [];
      const seen = new Map<string, string>();
      for (const raw of resources) {
        const resource = normalize(raw);
        const key = resourceKey(resource);
        const fp = fingerprint(resource);
        const inForce = this.#inForce.get(key)?.entry;
        const before = seen.get(key) ?? inForce?.fingerprint;
        seen.set(key, fp);
        const action: ApplyAction = before === undefined ? 'created' : before === fp ? 'unchanged' : 'configured';
        results.push({ key, resource, action });
        const prev = puts.get(key) ?? applied.get(key);
        // Unchanged and already held: keep its place in the order of changes. Otherwise what the user
        // applied goes in force, even when the applied source held it and a file changed it since.
        if (prev !== undefined && prev.fingerprint === fp && action === 'unchanged') continue;
        puts.set(key, { resource, fingerprint: fp, changedAt: this.#nextChange(), createdAt: prev?.createdAt ?? inForce?.createdAt ?? now });
      }
      await this.#persist(applied, puts, []);
      const changed = this.#update(APPLIED, puts, []);
      if (changed.size > 0) this.#publish(changed);
      return results;
    });
  }

  /** Deletes applied resources by key (`Kind/namespace/name`); resources defined by watched files are refused. */
  delete(keys: readonly string[]): Promise<DeleteResult[]> {
    return this.#exclusive(async () => {
      const applied = this.#sources.get(APPLIED) ?? new Map<string, Entry>();
      const deletes: string[] = [];
      const results: DeleteResult[] = [];
      for (const key of keys) {
        const file = this.#fileDefining(key);
        if (applied.has(key) && !deletes.includes(key)) {
          deletes.push(key);
          results.push({ key, action: 'deleted', ...(file === undefined ? {} : { file }) });
        } else if (file !== undefined) results.push({ key, action: 'defined-in-file', file });
        else results.push({ key, action: 'not-found' });
      }
      if (deletes.length > 0) {
        await this.#persist(applied, new Map(), deletes);
        const changed = this.#update(APPLIED, new Map(), deletes);
        if (changed.size > 0) this.#publish(changed);
      }
      return results;
    });
  }

  /** Stops watching; waits for in-flight applies and reloads. */
  async close(): Promise<void> {
    await Promise.all(this.#dirs.map((d) => d.close()));
    await this.#queue.catch(() => undefined);
  }

  #exclusive<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** A time for a change seen now: the clock, but always after every change seen so far. */
  #nextChange(): number {
    this.#lastChange = Math.max(Date.now(), this.#lastChange + 1);
    return this.#lastChange;
  }

  /**
   * Writes a change of the applied source (`puts` over `applied`, minus `deletes`) to disk before it takes
   * effect: a journal entry per change, or a new snapshot of the whole source now and then.
   */
  async #persist(applied: ReadonlyMap<string, Entry>, puts: ReadonlyMap<string, Entry>, deletes: readonly string[]): Promise<void> {
    const record = (e: Entry): AppliedRecord => ({ resource: e.resource, createdAt: e.createdAt, changedAt: new Date(e.changedAt).toISOString() });
    if (puts.size === 0 && deletes.length === 0) return;
    if (this.#journalEntries + puts.size + deletes.length > JOURNAL_LIMIT) {
      const next = new Map(applied);
      for (const [k, e] of puts) next.set(k, e);
      for (const k of deletes) next.delete(k);
      await saveAppliedState(this.#stateDir, [...next.values()].map(record));
      this.#journalEntries = 0;
      return;
    }
    await journalAppliedChanges(this.#stateDir, [...puts.values()].map(record), deletes);
    this.#journalEntries += puts.size + deletes.length;
  }

  /** Puts and deletes entries of source `id` in place; returns the keys whose resource in force changed. */
  #update(id: SourceId, puts: ReadonlyMap<string, Entry>, deletes: readonly string[]): Set<string> {
    let entries = this.#sources.get(id);
    if (entries === undefined) this.#sources.set(id, (entries = new Map()));
    for (const k of deletes) {
      entries.delete(k);
      this.#sourcesByKey.get(k)?.delete(id);
    }
    for (const [k, e] of puts) {
      entries.set(k, e);
      let set = this.#sourcesByKey.get(k);
      if (set === undefined) this.#sourcesByKey.set(k, (set = new Set()));
      set.add(id);
      this.#lastChange = Math.max(this.#lastChange, e.changedAt);
    }
    const changed = new Set<string>();
    for (const k of deletes) if (this.#elect(k)) changed.add(k);
    for (const k of puts.keys()) if (this.#elect(k)) changed.add(k);
    return changed;
  }

  #fileDefining(key: string): string | undefined {
    for (const s of this.#sourcesByKey.get(key) ?? []) if (s !== APPLIED) return s.slice('file:'.length);
    return undefined;
  }

  /**
   * Takes in a batch of file loads (keeping the last good version of files with errors) and publishes
   * once. `changedAt` dates the definitions of the initial loads; live ones date from now.
   */
  #fileLoads(loads: readonly FileLoad[], changedAt: ((load: FileLoad) => number) | undefined): void {
    const changed = new Set<string>();
    for (const load of loads) {
      const id = `file:${load.file}`;
      if (load.problems.length > 0) this.#problems.set(load.display, load.problems);
      else this.#problems.delete(load.display);
      const known = this.#sources.has(id);
      if (load.hasErrors) this.#reportInvalid(load, known);
      if (load.resources === undefined || !(load.hasErrors && known)) {
        const entries = this.#entries(id, load.resources ?? [], changedAt?.(load));
        for (const k of this.#install(id, entries)) changed.add(k);
      }
      if (load.resources === undefined) this.#sources.delete(id);
    }
    if (changed.size > 0 && changedAt === undefined) this.#publish(changed);
  }

  #reportInvalid(load: FileLoad, known: boolean): void {
    for (const p of load.problems) this.#log(p.severity === 'error' ? formatProblem(p) : formatProblem({ ...p, message: `${p.severity}: ${p.message}` }));
    const errors = load.problems.filter((p) => p.severity === 'error').length;
    const kept = known ? `its last good version stays in force (${this.#sources.get(`file:${load.file}`)?.size ?? 0} resources)` : `its ${load.resources?.length ?? 0} valid resources are in force`;
    this.#log(`config: ${load.display} has ${errors} error${errors === 1 ? '' : 's'}; ${kept}`);
  }

  /** The entries of a new version of source `id`: an unchanged definition keeps its entry (and its place in the order of changes). */
  #entries(id: SourceId, resources: readonly AnyResource[], changedAt: number | undefined): Map<string, Entry> {
    const old = this.#sources.get(id);
    const next = new Map<string, Entry>();
    const now = new Date().toISOString();
    for (const raw of resources) {
      const resource = normalize(raw);
      const key = resourceKey(resource);
      const fp = fingerprint(resource);
      const prev = old?.get(key);
      next.set(key, prev !== undefined && prev.fingerprint === fp
        ? prev
        : { resource, fingerprint: fp, changedAt: changedAt ?? this.#nextChange(), createdAt: prev?.createdAt ?? this.#inForce.get(key)?.entry.createdAt ?? now });
    }
    return next;
  }

  /** Makes `entries` what source `id` defines; returns the keys whose resource in force changed. */
  #install(id: SourceId, entries: Map<string, Entry>): Set<string> {
    const old = this.#sources.get(id) ?? new Map<string, Entry>();
    this.#sources.set(id, entries);
    for (const k of old.keys()) if (!entries.has(k)) this.#sourcesByKey.get(k)?.delete(id);
    for (const [k, e] of entries) {
      if (old.get(k) === e) continue; // already registered under this source
      let set = this.#sourcesByKey.get(k);
      if (set === undefined) this.#sourcesByKey.set(k, (set = new Set()));
      set.add(id);
      this.#lastChange = Math.max(this.#lastChange, e.changedAt);
    }
    // Only keys whose entry in this source changed can change what is in force.
    const changed = new Set<string>();
    for (const k of old.keys()) if (old.get(k) !== entries.get(k) && this.#elect(k)) changed.add(k);
    for (const k of entries.keys()) if (!old.has(k) && this.#elect(k)) changed.add(k);
    return changed;
  }

  /** Puts the most recently changed definition of `key` in force; true when the content in force changed. */
  #elect(key: string): boolean {
    let best: { entry: Entry; source: SourceId } | undefined;
    for (const s of this.#sourcesByKey.get(key) ?? []) {
      const entry = this.#sources.get(s)?.get(key);
      if (entry !== undefined && (best === undefined || entry.changedAt > best.entry.changedAt)) best = { entry, source: s };
    }
    const before = this.#inForce.get(key);
    if (best === undefined) {
      this.#sourcesByKey.delete(key);
      this.#inForce.delete(key);
      return before !== undefined;
    }
    this.#inForce.set(key, best);
    return before?.entry.fingerprint !== best.entry.fingerprint;
  }

  /**
   * Keys in force in snapshot order (`snapshotOrderKey`, computed from the key). A change of a few keys
   * patches the previous order in place (a binary search per added or deleted key); the first publish
   * and big changes sort every key.
   */
  #reorder(order: SnapshotOrder | undefined, changed: ReadonlySet<string>): SnapshotOrder {
    if (order === undefined || changed.size > REORDER_PATCH_LIMIT) {
      const sorted = [...this.#inForce.keys()].map((k) => [orderKeyOfKey(k), k] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return { keys: sorted.map((e) => e[1]), sortKeys: sorted.map((e) => e[0]), known: new Set(sorted.map((e) => e[1])) };
    }
    for (const k of changed) {
      const inForce = this.#inForce.has(k);
      if (inForce === order.known.has(k)) continue; // replaced in place: same key, same position
      const sk = orderKeyOfKey(k);
      const at = partitionPoint(order.sortKeys, (x) => x < sk);
      if (inForce) {
        order.keys.splice(at, 0, k);
        order.sortKeys.splice(at, 0, sk);
        order.known.add(k);
      } else {
        order.keys.splice(at, 1);
        order.sortKeys.splice(at, 1);
        order.known.delete(k);
      }
    }
    return order;
  }

  #publish(changed: ReadonlySet<string>): void {
    const order = (this.#order = this.#reorder(this.#order, changed));
    const resources = order.keys.map((k) => this.#inForce.get(k)!.entry.resource);
    this.#snapshot = configSnapshot(this.#snapshot.version + 1, resources, true);
    for (const l of this.#listeners) {
      try {
        l(this.#snapshot, changed);
      } catch (e) {
        this.#log(`config: a change listener failed: ${(e as Error).stack ?? String(e)}`);
      }
    }
  }
}
