/**
 * What the client knows about one resource type: the subscription (wildcard, or the names the proxy
 * wants), the last good resources (bytes, decoded object, version), which wanted names are known not to
 * exist, and the outcome of the last update. `accept` runs one response through decode → validate →
 * apply: it NACKs (returns every problem) or applies and commits, all or nothing, so a rejected response
 * leaves the last good config in force. Protocol details (nonces, requests) live in the sessions.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-nack-and-resource-type-instance-version
 */

import type { Proto, ResourceHandler } from '../core/contracts.ts';
import { Stats } from '../core/stats.ts';
import type { Counter } from '../core/stats.ts';
import { decodeResource } from '../../xds/protos.ts';
import { SHORT, collectionOf, isCollectionType, isWildcardType, messageName, subscriptionCovers } from '../../xds/type-urls.ts';
import { resourceName } from './wire.ts';
import type { WireResource } from './wire.ts';

/** A resource in force. `body` is the client's own copy of the bytes it was decoded from. */
export interface HeldResource {
  readonly name: string;
  readonly version: string;
  readonly body: Uint8Array;
  readonly resource: Proto;
  /** Epoch ms when this version was applied. */
  readonly updatedAt: number;
}

/** One response, protocol-neutral. */
export interface Update {
  readonly resources: readonly WireResource[];
  /** Names the server removed (delta `removed_resources`). */
  readonly removed: readonly string[];
  /** The response holds the complete set (state-of-the-world Listener/Cluster): held names missing from it are removed. */
  readonly exhaustive: boolean;
  /** The response's version (`version_info` or `system_version_info`); resources without their own version get it. */
  readonly version: string;
}

export interface Rejection {
  readonly version: string;
  readonly message: string;
  /** Epoch ms. */
  readonly at: number;
}

export interface TypeStatus {
  readonly typeUrl: string;
  /** `lds`, `cds`, `rds`, `eds`, `sds`. */
  readonly type: string;
  /** Version of the last accepted response ('' before any). */
  readonly version: string;
  readonly lastUpdated?: number;
  readonly lastNack?: Rejection;
  readonly resources: number;
  readonly subscribed: '*' | readonly string[];
  /** Wanted names that have neither arrived nor been declared absent. */
  readonly waiting: readonly string[];
  /** Wanted names the server removed or that timed out. */
  readonly absent: readonly string[];
}

/** A resource as the server sent it. */
interface Sent {
  readonly version: string;
  /** Shares memory with the response it came in. */
  readonly body: Uint8Array;
}

/** What accepting a response changes. */
interface Plan {
  readonly changed: Map<string, HeldResource>;
  /** Same bytes under a new version: nothing to apply, only the version to record. */
  readonly retagged: HeldResource[];
  readonly removed: string[];
}

/** Envoy's stat prefixes where they are well known; the rest under `xds.<type>`. */
const STAT_PREFIX: Readonly<Record<string, string>> = { lds: 'listener_manager.lds', cds: 'cluster_manager.cds' };

interface Counters {
  readonly attempt: Counter;
  readonly success: Counter;
  readonly rejected: Counter;
  readonly timeout: Counter;
}

function counters(stats: Stats, short: string): Counters {
  const prefix = STAT_PREFIX[short] ?? `xds.${short}`;
  return {
    attempt: stats.counter(`${prefix}.update_attempt`),
    success: stats.counter(`${prefix}.update_success`),
    rejected: stats.counter(`${prefix}.update_rejected`),
    timeout: stats.counter(`${prefix}.init_fetch_timeout`),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

export class TypeState {
  readonly typeUrl: string;
  readonly short: string;
  readonly handler: ResourceHandler;
  /** Listener and Cluster: always the full set; the rest by name. */
  readonly wildcard: boolean;
  /** Version of the last accepted response (SotW `version_info`, delta `system_version_info`). */
  version = '';
  lastUpdated: number | undefined;
  lastNack: Rejection | undefined;
  /** Whether a response of this type was ever applied (the first one is applied even when empty). */
  applied = false;
  readonly #kind: string;
  /** VHDS: a wanted name may be a collection (a route configuration's), answered by its members. */
  readonly #collections: boolean;
  /** Wanted collection names a response has answered since they were wanted (empty collections hold nothing). */
  readonly #answered = new Set<string>();
  readonly #held = new Map<string, HeldResource>();
  readonly #wanted = new Set<string>();
  readonly #absent = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** See `#candidate`. */
  readonly #unaccepted = new Map<string, Sent | null>();
  readonly #counters: Counters;
  readonly #log: (line: string) => void;

  constructor(handler: ResourceHandler, options: { readonly stats?: Stats; readonly log: (line: string) => void }) {
    this.typeUrl = handler.typeUrl;
    this.handler = handler;
    this.short = SHORT[this.typeUrl] ?? messageName(this.typeUrl);
    this.#kind = messageName(this.typeUrl).split('.').pop() ?? this.typeUrl;
    this.wildcard = isWildcardType(this.typeUrl);
    this.#collections = isCollectionType(this.typeUrl);
    this.#counters = counters(options.stats ?? new Stats(), this.short);
    this.#log = options.log;
  }

  /** Whether requests for this type should be on the stream. */
  get active(): boolean {
    return this.wildcard || this.#wanted.size > 0;
  }

  get wanted(): ReadonlySet<string> {
    return this.#wanted;
  }

  /** Names of the resources in force and their versions (delta `initial_resource_versions`). */
  versions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.#held.values()) out[r.name] = r.version;
    return out;
  }

  resources(): IterableIterator<HeldResource> {
    return this.#held.values();
  }

  /**
   * Whether `name` is held or known to be absent. A name not wanted (yet) is not settled: listeners
   * register their RDS names a microtask after they are built.
   */
  settled(name: string): boolean {
    return this.#held.has(name) || this.#absent.has(name) || this.#answered.has(name);
  }

  /** Wanted names neither held nor known to be absent. */
  waiting(): string[] {
    const out: string[] = [];
    for (const n of this.#wanted) if (!this.#held.has(n) && !this.#absent.has(n) && !this.#answered.has(n)) out.push(n);
    return out;
  }

  /**
   * Decodes, validates and applies one response. Returns every problem found (nothing is applied or
   * kept then), or an empty list once the handler applied it.
   */
  accept(update: Update): string[] {
    this.#counters.attempt.value++;
    const problems: string[] = [];
    const candidate = this.#candidate(update, this.#read(update, problems));
    const plan = this.#plan(candidate, problems);
    if (problems.length === 0 && (plan.changed.size > 0 || plan.removed.length > 0 || !this.applied)) {
      try {
        this.#apply(plan.changed, plan.removed);
      } catch (err) {
        problems.push(`${this.#kind} update could not be applied: ${(err as Error).message}`);
      }
    }
    if (problems.length > 0) {
      this.#counters.rejected.value++;
      return problems;
    }
    this.#commit(plan, update.version);
    this.#counters.success.value++;
    return problems;
  }

  /** Records a rejection (after `accept` returned problems). */
  rejected(version: string, message: string): void {
    this.lastNack = { version, message, at: Date.now() };
  }

  /**
   * Sets the wanted names (named types only). Resources no longer wanted are removed at once (the
   * handler hears of them); returns whether the subscription changed.
   */
  want(names: ReadonlySet<string>): boolean {
    const removed: string[] = [];
    let changed = false;
    for (const n of [...this.#wanted]) {
      if (names.has(n)) continue;
      changed = true;
      this.#wanted.delete(n);
      this.#absent.delete(n);
      this.#answered.delete(n);
      this.#unaccepted.delete(n);
      this.#clearTimer(n);
      if (this.#held.delete(n)) removed.push(n);
      if (this.#collections) {
        for (const held of [...this.#held.keys()]) {
          if (collectionOf(held) !== n) continue;
          this.#held.delete(held);
          removed.push(held);
        }
      }
    }
    for (const n of names) {
      if (this.#wanted.has(n)) continue;
      changed = true;
      this.#wanted.add(n);
    }
    if (removed.length > 0) this.#safeApply(new Map(), removed, 'unsubscribe');
    return changed;
  }

  /** Starts the initial-fetch timer of every waiting name that has none (called once its subscription is sent). */
  armTimers(ms: number, onExpire: (name: string) => void): void {
    if (!Number.isFinite(ms)) return;
    for (const n of this.waiting()) {
      if (this.#timers.has(n)) continue;
      const timer = setTimeout(() => {
        this.#timers.delete(n);
        onExpire(n);
      }, ms);
      timer.unref();
      this.#timers.set(n, timer);
    }
  }

  /**
   * The stream ended: timers stop (they restart when the subscription is sent again) and what the
   * server believed beyond the accepted state is forgotten (a new stream starts from what is held).
   */
  streamEnded(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#unaccepted.clear();
  }

  /**
   * The initial fetch timeout of `name` passed: it counts as absent (the handler is told it was
   * removed) so warming can finish. Returns whether anything changed.
   * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/config_source.proto#envoy-v3-api-field-config-core-v3-configsource-initial-fetch-timeout
   */
  expire(name: string): boolean {
    if (!this.#wanted.has(name) || this.#held.has(name) || this.#absent.has(name)) return false;
    this.#absent.add(name);
    this.#counters.timeout.value++;
    this.#safeApply(new Map(), [name], 'initial fetch timeout');
    return true;
  }

  status(): TypeStatus {
    return {
      typeUrl: this.typeUrl,
      type: this.short,
      version: this.version,
      ...(this.lastUpdated === undefined ? {} : { lastUpdated: this.lastUpdated }),
      ...(this.lastNack === undefined ? {} : { lastNack: this.lastNack }),
      resources: this.#held.size,
      subscribed: this.wildcard ? '*' : [...this.#wanted].sort(),
      waiting: this.waiting().sort(),
      absent: [...this.#absent].sort(),
    };
  }

  /** The response's resources by name (those asked for), with problems of type, name and duplicates. */
  #read(update: Update, problems: string[]): Map<string, Sent> {
    const incoming = new Map<string, Sent>();
    const seen = new Set<string>();
    update.resources.forEach((r, i) => {
      const name = this.#nameOf(r, i, problems);
      if (name === undefined) return;
      if (seen.has(name)) {
        problems.push(`${this.#kind} ${name}: sent twice in one response`);
        return;
      }
      seen.add(name);
      // Not asked for: ignored, as Envoy does.
      if (this.wildcard || subscriptionCovers(this.typeUrl, this.#wanted, name)) incoming.set(name, { version: r.version ?? update.version, body: r.body });
    });
    return incoming;
  }

  /**
   * The state the server believes the client is in, as far as it differs from what the client holds
   * (null: removed). A complete set (state-of-the-world Listener/Cluster) is its own answer. Other
   * responses carry only what changed since the server's last one, accepted or not: they are judged
   * together with what earlier rejected responses carried, which the server will not send again.
   */
  #candidate(update: Update, incoming: ReadonlyMap<string, Sent>): ReadonlyMap<string, Sent | null> {
    if (update.exhaustive) {
      this.#unaccepted.clear();
      const all = new Map<string, Sent | null>(incoming);
      for (const n of this.#held.keys()) if (!incoming.has(n)) all.set(n, null);
      return all;
    }
    for (const [n, sent] of incoming) this.#unaccepted.set(n, sent);
    for (const n of update.removed) if (!incoming.has(n)) this.#unaccepted.set(n, null);
    return this.#unaccepted;
  }

  /** What accepting the candidate would change; decodes and validates only resources whose bytes differ. */
  #plan(candidate: ReadonlyMap<string, Sent | null>, problems: string[]): Plan {
    const plan: Plan = { changed: new Map(), retagged: [], removed: [] };
    const now = Date.now();
    for (const [name, sent] of candidate) {
      const prev = this.#held.get(name);
      if (sent === null) {
        // A wanted name reported missing counts as removed too, so warming stops waiting for it.
        if (prev !== undefined || (!this.wildcard && this.#wanted.has(name) && !this.#absent.has(name))) plan.removed.push(name);
      } else if (prev !== undefined && sameBytes(prev.body, sent.body)) {
        if (prev.version !== sent.version) plan.retagged.push({ ...prev, version: sent.version });
      } else {
        const resource = this.#check(name, sent.body, problems);
        if (resource !== undefined) plan.changed.set(name, { name, version: sent.version, body: new Uint8Array(sent.body), resource, updatedAt: now });
      }
    }
    return plan;
  }

  #nameOf(r: WireResource, i: number, problems: string[]): string | undefined {
    if (r.typeUrl !== this.typeUrl) {
      problems.push(`resources[${i}]: type ${r.typeUrl} in a ${this.#kind} response`);
      return undefined;
    }
    const name = resourceName(r.body);
    if (name === undefined || name === '') {
      problems.push(`resources[${i}]${r.name ? ` (${r.name})` : ''}: ${this.#kind} has no name`);
      return undefined;
    }
    if (r.name !== undefined && r.name !== name) {
      problems.push(`${this.#kind} ${r.name}: resource is named ${JSON.stringify(name)} inside`);
      return undefined;
    }
    return name;
  }

  /** Decodes and validates one resource; pushes its problems (named) and returns it when valid. */
  #check(name: string, body: Uint8Array, problems: string[]): Proto | undefined {
    let resource: Proto;
    try {
      resource = decodeResource(this.typeUrl, body);
    } catch (err) {
      problems.push(`${this.#kind} ${name}: ${(err as Error).message}`);
      return undefined;
    }
    let found: string[];
    try {
      found = this.handler.validate(name, resource);
    } catch (err) {
      found = [`validation failed: ${(err as Error).message}`];
    }
    for (const p of found) problems.push(`${this.#kind} ${name}: ${p}`);
    return found.length === 0 ? resource : undefined;
  }

  /** Hands the update to the handler: the full set for wildcard types, else what changed. */
  #apply(changed: ReadonlyMap<string, HeldResource>, removed: readonly string[]): void {
    const resources = new Map<string, Proto>();
    if (this.wildcard) {
      const gone = new Set(removed);
      for (const [n, r] of this.#held) if (!gone.has(n)) resources.set(n, r.resource);
    }
    for (const [n, r] of changed) resources.set(n, r.resource);
    this.handler.apply(resources, removed, this.wildcard);
  }

  #commit(plan: Plan, version: string): void {
    for (const r of plan.retagged) this.#held.set(r.name, r);
    for (const n of plan.removed) {
      this.#held.delete(n);
      if (!this.wildcard && this.#wanted.has(n)) this.#absent.add(n);
      this.#clearTimer(n);
    }
    for (const [n, r] of plan.changed) {
      this.#held.set(n, r);
      this.#absent.delete(n);
      this.#clearTimer(n);
    }
    if (this.#collections) {
      for (const n of this.#wanted) {
        this.#answered.add(n);
        this.#clearTimer(n);
      }
    }
    this.#unaccepted.clear();
    this.version = version;
    this.lastUpdated = Date.now();
    this.applied = true;
  }

  /** Applies a local change (unsubscribe, timeout); a throwing handler is a bug, logged, never propagated. */
  #safeApply(resources: ReadonlyMap<string, Proto>, removed: readonly string[], why: string): void {
    try {
      this.handler.apply(resources, removed, this.wildcard);
    } catch (err) {
      this.#log(`xds: ${this.short} handler failed on ${why} of ${removed.join(', ')}: ${(err as Error).message}`);
    }
  }

  #clearTimer(name: string): void {
    const t = this.#timers.get(name);
    if (t === undefined) return;
    clearTimeout(t);
    this.#timers.delete(name);
  }
}
