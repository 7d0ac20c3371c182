/**
 * State-of-the-world ADS (`StreamAggregatedResources`) for one stream. Per type URL it tracks the
 * subscription, the latest nonce sent, and ACK/NACK; it answers a request only when it carries the
 * latest nonce (or starts a subscription), resends only when the subscription or the generated
 * version changes, and never resends a version the client NACKed.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-nack-and-resource-type-instance-version
 */

import { isWildcardType } from '../../xds/type-urls.ts';
import type { TypeStatus } from './types.ts';
import { Exchange, pushOrder, subscribedView } from './protocol.ts';
import type { Protocol, ProtocolContext } from './protocol.ts';
import { encodeSotwResponse } from './wire.ts';
import type { SotwRequest } from './wire.ts';

class SotwType extends Exchange {
  /** Per resource name, the version last sent (RDS/EDS only: see `#send`). */
  readonly sentVersions = new Map<string, string>();
  /** The last generated set version whose changes the client has been sent (may differ from `versionSent`). */
  generatedVersion: string | undefined;
  /** Legacy wildcard (empty names) is available only until the client names a resource. */
  explicit = false;
  wildcard = false;
  names: readonly string[] = [];

  /** Applies the request's names; returns whether the subscription changed. */
  subscribe(typeUrl: string, requested: readonly string[]): boolean {
    const wildcardType = isWildcardType(typeUrl);
    if (requested.length > 0) this.explicit = true;
    const wildcard = wildcardType && (requested.includes('*') || (!this.explicit && requested.length === 0));
    const names = [...new Set(wildcardType ? requested.filter((n) => n !== '*') : requested)].sort();
    const changed = wildcard !== this.wildcard || names.length !== this.names.length || names.some((n, i) => n !== this.names[i]);
    this.wildcard = wildcard;
    this.names = names;
    return changed;
  }

  get active(): boolean {
    return this.wildcard || this.names.length > 0;
  }
}

export class SotwProtocol implements Protocol<SotwRequest> {
  readonly mode = 'sotw' as const;
  readonly #ctx: ProtocolContext;
  readonly #types = new Map<string, SotwType>();

  constructor(ctx: ProtocolContext) {
    this.#ctx = ctx;
  }

  onRequest(req: SotwRequest, receivedAt: number): void {
    let state = this.#types.get(req.typeUrl);
    if (state === undefined || req.responseNonce === '') {
      // A new subscription for this type (or the client restarted its watch): always answer.
      state ??= new SotwType();
      this.#types.set(req.typeUrl, state);
      state.subscribe(req.typeUrl, req.resourceNames);
      this.#send(req.typeUrl, state, receivedAt, true);
      return;
    }
    // A nonce other than the latest is stale: the response it answers was superseded, and the client
    // restates its full subscription when it answers the latest one, so nothing here needs reading.
    if (req.responseNonce !== state.nonce) return;
    if (req.errorDetail !== null) state.nacked(this.#ctx, req.typeUrl, req.errorDetail.message);
    else state.acked(this.#ctx, req.typeUrl, req.versionInfo, receivedAt);
    if (state.subscribe(req.typeUrl, req.resourceNames)) this.#send(req.typeUrl, state, receivedAt, true);
  }

  push(types: ReadonlySet<string> | undefined, changedAt: number): void {
    for (const typeUrl of pushOrder(this.#types.keys(), types)) {
      const state = this.#types.get(typeUrl);
      if (state !== undefined) this.#send(typeUrl, state, changedAt, false);
    }
  }

  /**
   * Generates and sends the type; unless `force`, only when the version differs from the last sent.
   * For RouteConfiguration and ClusterLoadAssignment a push carries only the resources that changed:
   * in state-of-the-world xDS a resource of these types missing from a response is kept, not deleted
   * (only Listener and Cluster responses must hold the full set), so an endpoint change for one service
   * sends one ClusterLoadAssignment instead of all of them.
   * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#resource-updates
   */
  #send(typeUrl: string, state: SotwType, changedAt: number, force: boolean): void {
    if (!state.active) return;
    const generated = this.#ctx.generate(typeUrl, state.wildcard ? undefined : state.names);
    if (generated === undefined) return;
    if (!force && (generated.version === state.versionSent || generated.version === state.generatedVersion)) return;
    state.generatedVersion = generated.version;
    let resources = generated.resources;
    if (!isWildcardType(typeUrl)) {
      if (force) state.sentVersions.clear();
      else resources = resources.filter((r) => state.sentVersions.get(r.name) !== r.version);
      if (resources.length === 0 && !force) return;
      for (const r of resources) state.sentVersions.set(r.name, r.version);
    }
    const nonce = this.#ctx.nextNonce();
    const bytes = encodeSotwResponse(typeUrl, generated.version, nonce, resources, this.#ctx.controlPlane);
    state.sent(generated.version, nonce, changedAt);
    this.#ctx.write(bytes, { typeUrl, resources: resources.length, removed: 0 });
  }

  status(): Record<string, TypeStatus> {
    const out: Record<string, TypeStatus> = {};
    for (const [typeUrl, state] of this.#types) out[typeUrl] = state.status(subscribedView(state.wildcard, state.names));
    return out;
  }
}
