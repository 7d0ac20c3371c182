/**
 * What every simulated sidecar of a run subscribes to, encoded once and shared: the fleet's sidecars and
 * the joining ones (joiner.ts) make the same requests.
 */
import { TYPE } from '../../src/xds/type-urls.ts';
import { edsClusterNames, expectedResources, SIDECAR_ROUTE_NAMES } from './mesh.ts';
import { RequestCodec, type AdsProtocol, type NodeSpec } from './sidecar-wire.ts';
import { Sidecar, type AckListener } from './sidecar.ts';

export class Subscriptions {
  readonly codec: RequestCodec;
  /** Delta streams take outbound virtual hosts over VHDS, as `weft proxy` does. */
  readonly vhds: boolean;
  /** Resources per type a sidecar holds once synced. */
  readonly expected: ReadonlyMap<string, number>;
  readonly #subscriptions: ReadonlyMap<string, Buffer>;
  readonly #ackBases: ReadonlyMap<string, Buffer>;

  constructor(protocol: AdsProtocol, services: number) {
    this.codec = new RequestCodec(protocol);
    this.vhds = protocol === 'delta';
    const names: [string, readonly string[]][] = [
      [TYPE.cluster, []],
      [TYPE.listener, []],
      [TYPE.route, SIDECAR_ROUTE_NAMES],
      ...(this.vhds ? [[TYPE.virtualHost, SIDECAR_ROUTE_NAMES] as [string, readonly string[]]] : []),
      [TYPE.endpoint, edsClusterNames(services)],
    ];
    this.#subscriptions = new Map(names.map(([t, n]) => [t, this.codec.subscription(t, n)]));
    this.#ackBases = new Map(names.map(([t, n]) => [t, this.codec.ackBase(t, n)]));
    this.expected = expectedResources(services, this.vhds);
  }

  /** A sidecar (not yet started) that subscribes to everything. */
  sidecar(index: number, target: string, node: NodeSpec, onAck: AckListener): Sidecar {
    return new Sidecar({
      index, target, node: this.codec.node(node), subscriptions: this.#subscriptions, ackBases: this.#ackBases, codec: this.codec, onAck,
    });
  }

  /** Whether `s` holds every resource it subscribed to. */
  isSynced(s: Sidecar): boolean {
    for (const [t, n] of this.expected) if ((s.resourcesReceived.get(t) ?? 0) < n) return false;
    return true;
  }
}
