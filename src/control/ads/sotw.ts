/**
 * State-of-the-world ADS (`StreamAggregatedResources`) for one stream. Per type URL it tracks the
 * subscription, the latest nonce sent, and ACK/NACK; it answers a request only when it carries the
 * latest nonce (or starts a subscription), resends only when the subscription or the generated
 * version changes, and never resends a version the client NACKed. What it owes while the stream is
 * not writable waits as pending types and is generated afresh when the stream drains.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-nack-and-resource-type-instance-version
 */

import type { EncodedResource, Generated } from '../../xds/resource-server.ts';
import { isWildcardType } from '../../xds/type-urls.ts';
import type { WireNames } from './names.ts';
import type { TypeStatus } from './types.ts';
import { Exchange, StreamProtocol, subscribedView } from './protocol.ts';
import type { Owed, Protocol, ProtocolContext } from './protocol.ts';
import { sotwResponse } from './responses.ts';
import { resourceNamesBytes } from './wire.ts';
import type { SotwRequest } from './wire.ts';

const NO_NAMES: readonly string[] = Object.freeze([]);

class SotwType extends Exchange {
  /**
   * RDS/EDS only (see `send`): the last set whose resources the client has been sent, each at the
   * version it has there. A later set is sent as its difference from this one.
   */
  held: Generated | undefined;
  /** The last generated set version whose changes the client has been sent (may differ from `versionSent`). */
  generatedVersion: string | undefined;
  /** Legacy wildcard (empty names) is available only until the client names a resource. */
  explicit = false;
  wildcard = false;
  /** Sorted, interned: the identical array for every stream subscribed to the same names. */
  names: readonly string[] = NO_NAMES;
  /** The resource_names of the request that set the subscription, to skip unchanged ones cheaply. */
  wire: WireNames | undefined;

  /** Applies the request's names; returns whether the subscription changed. */
  subscribe(ctx: ProtocolContext, req: SotwRequest): boolean {
    const bytes = resourceNamesBytes(req);
    // An ACK repeats the whole subscription: when its bytes are the previous request's, nothing changed.
    if (bytes !== undefined && this.wire !== undefined && bytes.equals(this.wire.bytes)) return false;
    const wire = bytes === undefined ? undefined : ctx.names.fromWire(bytes, () => req.resourceNames);
    const requested = wire ?? { sorted: ctx.names.sorted(req.resourceNames), empty: req.resourceNames.length === 0, star: req.resourceNames.includes('*') };
    this.wire = wire;
    const wildcardType = isWildcardType(req.typeUrl);
    if (!requested.empty) this.explicit = true;
    const wildcard = wildcardType && (requested.star || (!this.explicit && requested.empty));
    const names = wildcardType && requested.star ? ctx.names.sorted(requested.sorted.filter((n) => n !== '*')) : requested.sorted;
    const changed = wildcard !== this.wildcard || names !== this.names;
    this.wildcard = wildcard;
    this.names = names;
    return changed;
  }

  get active(): boolean {
    return this.wildcard || this.names.length > 0;
  }
}

/** Per set, the change from it to the set that followed it, shared by every stream that moves alike. */
const changes = new WeakMap<Generated, { readonly next: Generated; readonly changed: readonly EncodedResource[] }>();

/** The resources of `next` that `prev` lacks or holds at another version; computed once per pair. */
function changedSince(prev: Generated, next: Generated): readonly EncodedResource[] {
  const known = changes.get(prev);
  if (known?.next === next) return known.changed;
  const a = prev.resources;
  const b = next.resources;
  const changed: EncodedResource[] = [];
  let i = 0;
  // Sets of one subscription usually list the same names in the same order: compare in step first.
  for (const n = Math.min(a.length, b.length); i < n && a[i]!.name === b[i]!.name; i++) {
    if (a[i] !== b[i] && a[i]!.version !== b[i]!.version) changed.push(b[i]!);
  }
  if (i < b.length) {
    const before = new Map<string, string>();
    for (let j = i; j < a.length; j++) before.set(a[j]!.name, a[j]!.version);
    for (let j = i; j < b.length; j++) if (before.get(b[j]!.name) !== b[j]!.version) changed.push(b[j]!);
  }
  changes.set(prev, { next, changed });
  return changed;
}

export class SotwProtocol extends StreamProtocol<SotwType> implements Protocol<SotwRequest> {
  readonly mode = 'sotw' as const;

  onRequest(req: SotwRequest, receivedAt: number): void {
    let state = this.types.get(req.typeUrl);
    if (state === undefined || req.responseNonce === '') {
      // A new subscription for this type (or the client restarted its watch): always answer.
      state ??= new SotwType();
      this.types.set(req.typeUrl, state);
      state.subscribe(this.ctx, req);
      this.owed.add(req.typeUrl, true, receivedAt);
      this.flush();
      return;
    }
    // A nonce other than the latest is stale: the response it answers was superseded, and the client
    // restates its full subscription when it answers the latest one, so nothing here needs reading.
    if (req.responseNonce !== state.nonce) return;
    if (req.errorDetail !== null) state.nacked(this.ctx, req.typeUrl, req.errorDetail.message);
    else state.acked(this.ctx, req.typeUrl, req.versionInfo, receivedAt);
    if (state.subscribe(this.ctx, req)) {
      this.owed.add(req.typeUrl, true, receivedAt);
      this.flush();
    }
  }

  /**
   * Generates and sends the type; unless forced, only when the version differs from the last sent.
   * For RouteConfiguration and ClusterLoadAssignment a push carries only the resources that changed:
   * in state-of-the-world xDS a resource of these types missing from a response is kept, not deleted
   * (only Listener and Cluster responses must hold the full set), so an endpoint change for one service
   * sends one ClusterLoadAssignment instead of all of them.
   * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#resource-updates
   */
  protected send({ typeUrl, force, changedAt }: Owed): void {
    const state = this.types.get(typeUrl);
    if (state === undefined || !state.active) return;
    const generated = this.ctx.generate(typeUrl, state.wildcard ? undefined : state.names);
    if (generated === undefined) return;
    if (!force && (generated.version === state.versionSent || generated.version === state.generatedVersion)) return;
    state.generatedVersion = generated.version;
    let resources = generated.resources;
    if (!isWildcardType(typeUrl)) {
      const held = state.held;
      state.held = generated;
      if (!force && held !== undefined) resources = changedSince(held, generated);
      if (resources.length === 0 && !force) return;
    }
    const nonce = this.ctx.nextNonce();
    const response = sotwResponse(typeUrl, generated.version, nonce, resources, this.ctx.controlPlane);
    state.sent(generated.version, nonce, changedAt);
    this.ctx.write(response, typeUrl, resources.length, 0);
  }

  status(): Record<string, TypeStatus> {
    const out: Record<string, TypeStatus> = {};
    for (const [typeUrl, state] of this.types) out[typeUrl] = state.status(subscribedView(state.wildcard, state.names));
    return out;
  }
}
