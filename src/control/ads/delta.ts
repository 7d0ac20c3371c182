/**
 * Incremental ADS (`DeltaAggregatedResources`) for one stream. Per type URL it tracks the subscribed
 * names (and wildcard), and which version of each resource the client holds; every response carries
 * only resources whose version differs and the names that no longer exist (`removed_resources`).
 * Subscription changes are honoured even on a stale nonce; the nonce only pairs ACKs and NACKs.
 * What it owes while the stream is not writable waits as pending types, diffed when the stream drains.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#incremental-xds
 */

import type { EncodedResource, Generated } from '../../xds/resource-server.ts';
import { collectionOf, isCollectionType, isWildcardType, subscriptionCovers } from '../../xds/type-urls.ts';
import type { TypeStatus } from './types.ts';
import { Exchange, StreamProtocol, subscribedView } from './protocol.ts';
import type { Owed, Protocol, ProtocolContext } from './protocol.ts';
import { deltaResponse } from './responses.ts';
import type { DeltaRequest } from './wire.ts';

const NOTHING: Generated = { version: '', resources: [] };
const EMPTY: ReadonlySet<string> = new Set();

/** Held for a name the server told the client does not exist (so it is not repeated on every push). */
const ABSENT = '\u0000absent';

interface Diff {
  readonly changed: readonly EncodedResource[];
  readonly removed: readonly string[];
}

const NO_DIFF: Diff = { changed: [], removed: [] };

/** Per Generated, its resources' versions by name (built when first needed, shared by every stream). */
const indexes = new WeakMap<Generated, Map<string, string>>();

function indexOf(generated: Generated): Map<string, string> {
  let index = indexes.get(generated);
  if (index === undefined) {
    index = new Map();
    for (const r of generated.resources) index.set(r.name, r.version);
    indexes.set(generated, index);
  }
  return index;
}

/** Per Generated a stream held, the diff to the Generated that replaced it last: computed once for all streams alike. */
const pairDiffs = new WeakMap<Generated, { readonly next: Generated; readonly diff: Diff }>();

/** What a client holding exactly `prev` lacks to hold exactly `next` (both for the same subscription). */
function sharedDiff(prev: Generated, next: Generated): Diff {
  if (prev === next) return NO_DIFF;
  const hit = pairDiffs.get(prev);
  if (hit !== undefined && hit.next === next) return hit.diff;
  const before = indexOf(prev);
  const after = indexOf(next);
  const changed = next.resources.filter((r) => before.get(r.name) !== r.version);
  const removed: string[] = [];
  for (const r of prev.resources) if (!after.has(r.name)) removed.push(r.name);
  const diff = changed.length === 0 && removed.length === 0 ? NO_DIFF : { changed, removed };
  pairDiffs.set(prev, { next, diff });
  return diff;
}

/**
 * One type's subscription and what the client holds. After every response the holding is the
 * Generated that response was diffed from — shared by all streams with the same view — so a thousand
 * streams in step cost one diff per push and no per-resource memory each. Only a stream whose
 * subscription changed, or that announced `initial_resource_versions`, holds a per-name map until its
 * next response.
 */
class DeltaType extends Exchange {
  wildcard = false;
  /** Subscribed names: an interned set shared by every stream with the same subscription (replaced, never mutated). */
  #names: ReadonlySet<string> = EMPTY;
  /** VHDS: a subscribed name may be a collection (`15001` asks for every `15001/<host>`). */
  readonly #collections: boolean;
  readonly #typeUrl: string;
  /** Resource name → version the client holds (or ABSENT), when `#held` does not describe it. */
  #known: Map<string, string> | undefined = new Map();
  /**
   * With `#known` undefined: the client holds exactly these resources, and knows that every name it
   * subscribed to that is missing here does not exist.
   */
  #held: Generated | undefined;
  /** `names` sorted and interned, for `generate`; dropped when they change. */
  #sorted: readonly string[] | undefined;
  /** Nonces of the parts of the latest response before its last (whose nonce is `nonce`). */
  earlierNonces: ReadonlySet<string> = EMPTY;

  constructor(typeUrl: string) {
    super();
    this.#collections = isCollectionType(typeUrl);
    this.#typeUrl = typeUrl;
  }

  sortedNames(ctx: ProtocolContext): readonly string[] {
    return (this.#sorted ??= ctx.names.sorted(this.#names));
  }

  get names(): ReadonlySet<string> {
    return this.#names;
  }

  /** The per-name view of what the client holds (built from the shared holding when needed). */
  #map(): Map<string, string> {
    if (this.#known !== undefined) return this.#known;
    const known = new Map<string, string>();
    for (const r of this.#held?.resources ?? []) known.set(r.name, r.version);
    if (!this.#collections) for (const name of this.#names) if (!known.has(name)) known.set(name, ABSENT);
    this.#held = undefined;
    return (this.#known = known);
  }

  #covers(name: string): boolean {
    return this.wildcard || subscriptionCovers(this.#typeUrl, this.#names, name);
  }

  /** Applies a request's subscription changes; returns whether they call for a response. */
  apply(ctx: ProtocolContext, req: DeltaRequest, first: boolean): boolean {
    if (first) {
      // Legacy wildcard: a first request naming nothing subscribes to everything (LDS/CDS).
      this.wildcard = isWildcardType(req.typeUrl) && req.subscribe.length === 0 && req.unsubscribe.length === 0;
      for (const [name, version] of Object.entries(req.initialResourceVersions)) this.#map().set(name, version);
    }
    let changed = first;
    if (req.subscribe.length === 0 && req.unsubscribe.length === 0) return changed;
    const known = this.#map();
    const names = new Set(this.#names);
    for (const name of req.subscribe) {
      changed = true;
      if (name === '*') {
        this.wildcard = true;
        continue;
      }
      names.add(name);
      // The client may have forgotten a resource it re-subscribes to: send it even if unchanged.
      if (!first || !Object.hasOwn(req.initialResourceVersions, name)) this.#forget(known, name);
    }
    for (const name of req.unsubscribe) {
      if (name === '*') {
        this.wildcard = false;
        changed = true;
      } else if (names.delete(name)) {
        this.#forget(known, name);
        // Under a wildcard the client cannot tell whether to keep the resource: answering resends it
        // when the wildcard covers it (the wildcard set is all there is, so otherwise it is gone).
        if (this.wildcard) changed = true;
      }
    }
    this.#sorted = ctx.names.sorted(names);
    this.#names = ctx.names.setOf(this.#sorted);
    return changed;
  }

  /** Drops what the client holds under `name` (for a collection, every member). */
  #forget(known: Map<string, string>, name: string): void {
    known.delete(name);
    if (!this.#collections) return;
    for (const held of [...known.keys()]) if (collectionOf(held) === name) known.delete(held);
  }

  get active(): boolean {
    return this.wildcard || this.#names.size > 0 || (this.#known === undefined ? (this.#held?.resources.length ?? 0) > 0 : this.#known.size > 0);
  }

  diff(generated: Generated): Diff {
    if (this.#known === undefined) return sharedDiff(this.#held ?? NOTHING, generated);
    const known = this.#known;
    // Holding nothing yet (a new subscription without initial versions): `generated` was made for exactly
    // this subscription, so all of it is new, and with one resource per subscribed name none is missing
    // (collections are not resources: none is ever said missing).
    if (known.size === 0 && (this.wildcard ? this.#names.size === 0 : this.#collections || generated.resources.length === this.#names.size)) {
      return { changed: generated.resources, removed: [] };
    }
    const changed: EncodedResource[] = [];
    const present = new Set<string>();
    for (const r of generated.resources) {
      if (!this.#covers(r.name)) continue;
      present.add(r.name);
      if (known.get(r.name) !== r.version) changed.push(r);
    }
    const removed: string[] = [];
    for (const [name, version] of known) {
      if (present.has(name) || version === ABSENT) continue;
      if (this.#covers(name)) removed.push(name);
      else known.delete(name); // left over from initial_resource_versions, not subscribed
    }
    // A subscribed name that does not exist is said so once (collections are not resources themselves).
    if (!this.#collections) for (const name of this.#names) if (!present.has(name) && !known.has(name)) removed.push(name);
    return { changed, removed };
  }

  /** Records that the client was sent `diff`, which brings it to hold exactly `generated`. */
  commit(generated: Generated): void {
    this.#known = undefined;
    this.#held = generated;
  }

  get resourcesKnown(): number {
    if (this.#known === undefined) return this.#held?.resources.length ?? 0;
    let n = 0;
    for (const v of this.#known.values()) if (v !== ABSENT) n++;
    return n;
  }
}

/**
 * A response carries at most about this many bytes of resources; a larger diff goes out as several
 * responses (delta xDS allows it: each is applied and ACKed on its own). Besides pacing a big initial
 * sync, it keeps every buffer gRPC allocates for a message small, which the allocator reuses instead of
 * keeping megabytes of freed memory mapped after a thousand proxies' initial syncs.
 */
const MAX_RESPONSE_BYTES = 128 * 1024;

const entryBytes = (r: EncodedResource): number => r.body.length + r.name.length + r.version.length + 16;

/** Whether `diff`'s resources fit in one response (the common case: a push changes a few resources). */
function fitsOne(diff: Diff): boolean {
  const changed = diff.changed;
  let bytes = 0;
  for (let i = 0; i < changed.length; i++) {
    bytes += entryBytes(changed[i]!);
    if (bytes > MAX_RESPONSE_BYTES && i > 0) return false;
  }
  return true;
}

/** `diff` cut into parts of at most MAX_RESPONSE_BYTES of resources (at least one each); removals go last. */
function chunks(diff: Diff): Diff[] {
  const out: Diff[] = [];
  let part: EncodedResource[] = [];
  let bytes = 0;
  for (const r of diff.changed) {
    const size = entryBytes(r);
    if (part.length > 0 && bytes + size > MAX_RESPONSE_BYTES) {
      out.push({ changed: part, removed: [] });
      part = [];
      bytes = 0;
    }
    part.push(r);
    bytes += size;
  }
  out.push({ changed: part, removed: diff.removed });
  return out;
}

export class DeltaProtocol extends StreamProtocol<DeltaType> implements Protocol<DeltaRequest> {
  readonly mode = 'delta' as const;

  onRequest(req: DeltaRequest, receivedAt: number): void {
    let state = this.types.get(req.typeUrl);
    const first = state === undefined;
    if (state === undefined) {
      state = new DeltaType(req.typeUrl);
      this.types.set(req.typeUrl, state);
    } else if (req.responseNonce !== '' && req.responseNonce === state.nonce) {
      if (req.errorDetail !== null) state.nacked(this.ctx, req.typeUrl, req.errorDetail.message);
      else state.acked(this.ctx, req.typeUrl, state.versionSent ?? '', receivedAt);
    } else if (req.errorDetail !== null && state.earlierNonces.has(req.responseNonce)) {
      // A part of the latest response other than its last was rejected: the response as a whole was.
      state.nacked(this.ctx, req.typeUrl, req.errorDetail.message);
    }
    if (state.apply(this.ctx, req, first)) {
      this.owed.add(req.typeUrl, first, receivedAt);
      this.flush();
    }
  }

  /** Sends what the client lacks; when nothing changed, only if forced (the first answer for a type). */
  protected send({ typeUrl, force: always, changedAt }: Owed): void {
    const state = this.types.get(typeUrl);
    if (state === undefined || (!state.active && !always)) return;
    const generated = state.wildcard || state.names.size > 0
      ? this.ctx.generate(typeUrl, state.wildcard ? undefined : state.sortedNames(this.ctx))
      : NOTHING;
    if (generated === undefined) return;
    const diff = state.diff(generated);
    if (diff.changed.length === 0 && diff.removed.length === 0 && !always) {
      // The client holds exactly `generated` already: holding the current set keeps this stream in step
      // with the others, so the next push's diff is shared instead of computed from an older set.
      state.commit(generated);
      return;
    }
    state.commit(generated);
    if (fitsOne(diff)) {
      // One response, as almost every push is: no per-stream arrays, and the diff's own resource list
      // (shared by the streams in step) lets the response reuse the bytes framed for the first of them.
      const nonce = this.ctx.nextNonce();
      state.sent(generated.version, nonce, changedAt);
      state.earlierNonces = EMPTY;
      this.#write(typeUrl, generated.version, nonce, diff);
      return;
    }
    const parts = chunks(diff);
    const nonces = parts.map(() => this.ctx.nextNonce());
    state.sent(generated.version, nonces[nonces.length - 1]!, changedAt);
    state.earlierNonces = new Set(nonces.slice(0, -1));
    parts.forEach((part, i) => this.#write(typeUrl, generated.version, nonces[i]!, part));
  }

  #write(typeUrl: string, version: string, nonce: string, part: Diff): void {
    const response = deltaResponse(typeUrl, version, nonce, part.changed, part.removed, this.ctx.controlPlane);
    this.ctx.write(response, typeUrl, part.changed.length, part.removed.length);
  }

  status(): Record<string, TypeStatus> {
    const out: Record<string, TypeStatus> = {};
    for (const [typeUrl, state] of this.types) {
      out[typeUrl] = state.status(subscribedView(state.wildcard, state.names), { resourcesKnown: state.resourcesKnown });
    }
    return out;
  }
}
