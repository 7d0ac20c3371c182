/**
 * State-of-the-world ADS (`StreamAggregatedResources`) for one stream, client side. Every request of a
 * type restates its whole subscription (empty names for the Listener/Cluster wildcard), carries the last
 * accepted `version_info` and the latest nonce received (a request with an older nonce is ignored by
 * the server), and a NACK repeats the last good version with `error_detail`. A Listener or Cluster
 * response is the complete set; RouteConfiguration and ClusterLoadAssignment responses may hold only
 * what changed, so a missing one is kept.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#resource-updates
 */

import type { TypeState } from './type-state.ts';
import { NACK_CODE, armTimers, inRequestOrder, nackMessage } from './session.ts';
import type { Session, SessionHost } from './session.ts';
import type { SotwRequest, SotwResponse } from './wire.ts';

const names = (state: TypeState): string[] => (state.wildcard ? [] : [...state.wanted].sort());

export class SotwSession implements Session<SotwResponse> {
  readonly mode = 'sotw' as const;
  readonly #host: SessionHost;
  readonly #send: (request: SotwRequest) => void;
  #nodeSent = false;
  /** Per type, the latest nonce received on this stream. */
  readonly #nonces = new Map<string, string>();
  /** Per type, the names last sent on this stream (joined), to skip requests that change nothing. */
  readonly #sent = new Map<string, string>();

  constructor(host: SessionHost, send: (request: SotwRequest) => void) {
    this.#host = host;
    this.#send = send;
  }

  start(): void {
    for (const state of inRequestOrder(this.#host.types)) if (state.active) this.#request(state);
  }

  resubscribe(state: TypeState): void {
    const sent = this.#sent.get(state.typeUrl);
    if (sent === undefined ? !state.active : sent === names(state).join('\n')) return;
    this.#request(state);
  }

  onResponse(res: SotwResponse): void {
    const state = this.#host.types.get(res.typeUrl);
    if (state === undefined) {
      this.#host.unexpected(res.typeUrl);
      this.#reply(res.typeUrl, '', [], res.nonce, `no subscription for ${res.typeUrl}`);
      return;
    }
    this.#nonces.set(res.typeUrl, res.nonce);
    const problems = state.accept({ resources: res.resources, removed: [], exhaustive: state.wildcard, version: res.versionInfo });
    const message = problems.length === 0 ? '' : nackMessage(problems);
    if (message !== '') state.rejected(res.versionInfo, message);
    this.#reply(res.typeUrl, state.version, this.#remember(state), res.nonce, message);
    this.#host.handled(state, res.versionInfo, problems, message);
  }

  /** A subscription request (first of the type on this stream, or a change of names). */
  #request(state: TypeState): void {
    this.#reply(state.typeUrl, state.version, this.#remember(state), this.#nonces.get(state.typeUrl) ?? '', '');
    armTimers(this.#host, state);
  }

  #remember(state: TypeState): string[] {
    const list = names(state);
    this.#sent.set(state.typeUrl, list.join('\n'));
    return list;
  }

  /** An ACK (message '') or NACK, or a plain request; the first on the stream carries the node. */
  #reply(typeUrl: string, versionInfo: string, resourceNames: string[], responseNonce: string, message: string): void {
    const node = this.#nodeSent ? undefined : this.#host.node;
    this.#nodeSent = true;
    this.#send({
      ...(node === undefined ? {} : { node }),
      typeUrl, versionInfo, resourceNames, responseNonce,
      ...(message === '' ? {} : { errorDetail: { code: NACK_CODE, message } }),
    });
  }
}
