/**
 * Incremental ADS (`DeltaAggregatedResources`) for one stream, client side. The first request of a
 * type subscribes (nothing named: the Listener/Cluster wildcard) and lists the versions of the
 * resources already held (`initial_resource_versions`), so after a reconnect the server sends only what
 * changed and removes what is gone. Later requests carry subscription diffs; ACK and NACK name the
 * response's nonce only.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#incremental-xds
 */

import type { TypeState } from './type-state.ts';
import { NACK_CODE, armTimers, inRequestOrder, nackMessage } from './session.ts';
import type { Session, SessionHost } from './session.ts';
import type { DeltaRequest, DeltaResponse } from './wire.ts';

export class DeltaSession implements Session<DeltaResponse> {
  readonly mode = 'delta' as const;
  readonly #host: SessionHost;
  readonly #send: (request: DeltaRequest) => void;
  #nodeSent = false;
  /** Per type subscribed on this stream, the names the server was told (empty for the wildcard). */
  readonly #sent = new Map<string, Set<string>>();

  constructor(host: SessionHost, send: (request: DeltaRequest) => void) {
    this.#host = host;
    this.#send = send;
  }

  start(): void {
    for (const state of inRequestOrder(this.#host.types)) if (state.active) this.#first(state);
  }

  resubscribe(state: TypeState): void {
    const sent = this.#sent.get(state.typeUrl);
    if (sent === undefined) {
      if (state.active) this.#first(state);
      return;
    }
    const subscribe = [...state.wanted].filter((n) => !sent.has(n));
    const unsubscribe = [...sent].filter((n) => !state.wanted.has(n));
    if (subscribe.length === 0 && unsubscribe.length === 0) return;
    this.#sent.set(state.typeUrl, new Set(state.wanted));
    this.#write({ typeUrl: state.typeUrl, resourceNamesSubscribe: subscribe, resourceNamesUnsubscribe: unsubscribe });
    armTimers(this.#host, state);
  }

  onResponse(res: DeltaResponse): void {
    const state = this.#host.types.get(res.typeUrl);
    if (state === undefined) {
      this.#host.unexpected(res.typeUrl);
      this.#write({ typeUrl: res.typeUrl, responseNonce: res.nonce, errorDetail: { code: NACK_CODE, message: `no subscription for ${res.typeUrl}` } });
      return;
    }
    const problems = state.accept({ resources: res.resources, removed: res.removed, exhaustive: false, version: res.systemVersionInfo });
    const message = problems.length === 0 ? '' : nackMessage(problems);
    if (message !== '') state.rejected(res.systemVersionInfo, message);
    this.#write({ typeUrl: res.typeUrl, responseNonce: res.nonce, ...(message === '' ? {} : { errorDetail: { code: NACK_CODE, message } }) });
    this.#host.handled(state, res.systemVersionInfo, problems, message);
  }

  #first(state: TypeState): void {
    const wanted = state.wildcard ? [] : [...state.wanted];
    this.#sent.set(state.typeUrl, new Set(wanted));
    this.#write({ typeUrl: state.typeUrl, resourceNamesSubscribe: wanted, initialResourceVersions: state.versions() });
    armTimers(this.#host, state);
  }

  #write(request: DeltaRequest): void {
    const node = this.#nodeSent ? undefined : this.#host.node;
    this.#nodeSent = true;
    this.#send(node === undefined ? request : { ...request, node });
  }
}
