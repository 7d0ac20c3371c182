/**
 * `envoy.filters.listener.original_dst`: restores the destination a connection was meant for, so a
 * listener with `use_original_dst` hands it to the listener bound (or not bound) to that address, and
 * ORIGINAL_DST clusters connect there. In local mode there is no redirection: the destination is the
 * socket's own local address. Transparent capture plugs in a resolver reading SO_ORIGINAL_DST
 * (the Kubernetes/netns work) through `OriginalDestinationResolver`.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/listener_filters/original_dst_filter
 */
import type { Socket } from 'node:net';
import type { Proto } from '../core/contracts.ts';
import type { InspectResult, InspectState, ListenerFilter, ListenerFilterFactory } from './listener-filter.ts';

export const ORIGINAL_DST_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst';

/** The destination before redirection, or undefined when the connection was not redirected. */
export type OriginalDestinationResolver = (socket: Socket) => { readonly address: string; readonly port: number } | undefined;

class OriginalDst implements ListenerFilter {
  readonly maxReadBytes = 0;
  readonly #resolve: OriginalDestinationResolver;

  constructor(resolve: OriginalDestinationResolver) {
    this.#resolve = resolve;
  }

  inspect(state: InspectState, _data: Buffer, socket: Socket): InspectResult {
    const dst = this.#resolve(socket);
    if (dst !== undefined) {
      state.localAddress = dst.address;
      state.localPort = dst.port;
    }
    state.restored = true;
    return 'continue';
  }
}

export function createOriginalDstFactory(resolve: OriginalDestinationResolver = () => undefined): ListenerFilterFactory {
  return {
    typeUrl: ORIGINAL_DST_TYPE_URL,
    validate: () => [],
    create: (_config: Proto) => new OriginalDst(resolve),
  };
}
