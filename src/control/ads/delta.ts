/**
 * Incremental ADS (`DeltaAggregatedResources`) for one stream. Per type URL it tracks the subscribed
 * names (and wildcard), and which version of each resource the client holds; every response carries
 * only resources whose version differs and the names that no longer exist (`removed_resources`).
 * Subscription changes are honoured even on a stale nonce; the nonce only pairs ACKs and NACKs.
 * What it owes while the stream is not writable waits as pending types, diffed when the stream drains.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#incremental-xds
 */

import type { EncodedResource, Generated } from '../../xds/resource-server.ts';
import { isWildcardType } from '../../xds/type-urls.ts';
import type { TypeStatus } from './types.ts';
import { Exchange, StreamProtocol, subscribedView } from './protocol.ts';
import type { Owed, Protocol, ProtocolContext } from './protocol.ts';
import { deltaResponse } from './responses.ts';
import type { DeltaRequest } from './wire.ts';

/** Held for a name the server told the client does not exist (so it is not repeated on every push). */
const ABSENT = '\u0000absent';

interface Diff {
  readonly changed: EncodedResource[];
  readonly removed: string[];
}

class DeltaType extends Exchange {
  wildcard = false;
  readonly names = new Set<string>();
  /** Resource name → version the client holds, as far as the server knows (or ABSENT). */
  readonly known = new Map<string, string>();
  /** `names` sorted and interned, for `generate`; dropped when they change. */
  #sorted: readonly string[] | undefined;

  sortedNames(ctx: ProtocolContext): readonly string[] {
    return (this.#sorted ??= ctx.names.sorted(this.names));
  }

  /** Applies a request's subscription changes; returns whether they call for a response. */
  apply(req: DeltaRequest, first: boolean): boolean {
    if (first) {
      // Legacy wildcard: a first request naming nothing subscribes to everything (LDS/CDS).
      this.wildcard = isWildcardType(req.typeUrl) && req.subscribe.length === 0 && req.unsubscribe.length === 0;
      for (const [name, version] of Object.entries(req.initialResourceVersions)) this.known.set(name, version);
    }
    let changed = first;
    if (req.subscribe.length > 0 || req.unsubscribe.length > 0) this.#sorted = undefined;
    for (const name of req.subscribe) {
      changed = true;
      if (name === '*') {
        this.wildcard = true;
        continue;
      }
      this.names.add(name);
      // The client may have forgotten a resource it re-subscribes to: send it even if unchanged.
      if (!first || !Object.hasOwn(req.initialResourceVersions, name)) this.known.delete(name);
    }
    for (const name of req.unsubscribe) {
      if (name === '*') {
        this.wildcard = false;
        changed = true;
      } else if (this.names.delete(name)) {
        this.known.delete(name);
        // Under a wildcard the client cannot tell whether to keep the resource: answering resends it
        // when the wildcard covers it (the wildcard set is all there is, so otherwise it is gone).
        if (this.wildcard) changed = true;
      }
    }
    return changed;
  }

  get active(): boolean {
    return this.wildcard || this.names.size > 0 || this.known.size > 0;
  }

  diff(generated: Generated): Diff {
    const changed: EncodedResource[] = [];
    const present = new Set<string>();
    for (const r of generated.resources) {
      if (!this.wildcard && !this.names.has(r.name)) continue;
      present.add(r.name);
      if (this.known.get(r.name) !== r.version) changed.push(r);
    }
    const removed: string[] = [];
    for (const [name, version] of this.known) {
      if (present.has(name) || version === ABSENT) continue;
      if (this.wildcard || this.names.has(name)) removed.push(name);
      else this.known.delete(name); // left over from initial_resource_versions, not subscribed
    }
    for (const name of this.names) if (!present.has(name) && !this.known.has(name)) removed.push(name);
    return { changed, removed };
  }

  /** Records what a response told the client. */
  commit(diff: Diff): void {
    for (const r of diff.changed) this.known.set(r.name, r.version);
    for (const name of diff.removed) {
      if (this.names.has(name)) this.known.set(name, ABSENT);
      else this.known.delete(name);
    }
  }

  get resourcesKnown(): number {
    let n = 0;
    for (const v of this.known.values()) if (v !== ABSENT) n++;
    return n;
  }
}

const NOTHING: Generated = { version: '', resources: [] };

export class DeltaProtocol extends StreamProtocol<DeltaType> implements Protocol<DeltaRequest> {
  readonly mode = 'delta' as const;

  onRequest(req: DeltaRequest, receivedAt: number): void {
    let state = this.types.get(req.typeUrl);
    const first = state === undefined;
    if (state === undefined) {
      state = new DeltaType();
      this.types.set(req.typeUrl, state);
    } else if (req.responseNonce !== '' && req.responseNonce === state.nonce) {
      if (req.errorDetail !== null) state.nacked(this.ctx, req.typeUrl, req.errorDetail.message);
      else state.acked(this.ctx, req.typeUrl, state.versionSent ?? '', receivedAt);
    }
    if (state.apply(req, first)) {
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
    if (diff.changed.length === 0 && diff.removed.length === 0 && !always) return;
    const nonce = this.ctx.nextNonce();
    const response = deltaResponse(typeUrl, generated.version, nonce, diff.changed, diff.removed, this.ctx.controlPlane);
    state.commit(diff);
    state.sent(generated.version, nonce, changedAt);
    this.ctx.write(response, { typeUrl, resources: diff.changed.length, removed: diff.removed.length });
  }

  status(): Record<string, TypeStatus> {
    const out: Record<string, TypeStatus> = {};
    for (const [typeUrl, state] of this.types) {
      out[typeUrl] = state.status(subscribedView(state.wildcard, state.names), { resourcesKnown: state.resourcesKnown });
    }
    return out;
  }
}
