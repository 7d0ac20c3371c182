/**
 * The contract between the ADS server (protocol: streams, nonces, versions, ACK/NACK, delta bookkeeping)
 * and what produces resources (the control plane's generators over a push snapshot). The ADS server
 * knows nothing of Istio; the resource server knows nothing of gRPC.
 *
 * Call order for one stream: `connect` once (first request's node), then any number of `generate`
 * calls (on new subscriptions and on pushes), then `disconnect` once when the stream ends.
 * Pushes: the resource server calls every `onPush` listener after a new snapshot is published; the ADS
 * server then calls `generate` for the affected connections and types and sends what changed.
 */

/** The node of a DiscoveryRequest, with `metadata` (a google.protobuf.Struct) as a plain JS object. */
export interface XdsNode {
  readonly id: string;
  readonly cluster: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly locality?: { readonly region?: string; readonly zone?: string; readonly subZone?: string };
  readonly userAgentName?: string;
  readonly userAgentVersion?: string;
}

/** One resource, already serialized as its own message (not wrapped in Any). */
export interface EncodedResource {
  readonly name: string;
  /** Changes when and only when `body` changes (a content hash). */
  readonly version: string;
  readonly body: Uint8Array;
}

/** The resources of one type for one proxy. For SotW the full set; for delta the same set, diffed by the server. */
export interface Generated {
  /** Version of the set: changes when any member changes. */
  readonly version: string;
  readonly resources: readonly EncodedResource[];
}

/** What a push concerns; absent fields mean "all". */
export interface PushEvent {
  /** Increasing snapshot version that this push publishes. */
  readonly version: string;
  /** Types that may have changed (e.g. only EDS for an endpoint-only change). */
  readonly types?: ReadonlySet<string>;
  /** Proxy ids that may be affected. */
  readonly proxies?: ReadonlySet<string>;
  /** Why, for logs and metrics (`config`, `endpoint`, `proxy-connected`…). */
  readonly reason: string;
  /** When the change that caused this push happened (`performance.now()`), for convergence metrics. */
  readonly changedAt: number;
}

export interface ConnectedProxy {
  /** The node id, which also identifies the proxy in push events and debug output. */
  readonly id: string;
}

export interface ResourceServer<P extends ConnectedProxy = ConnectedProxy> {
  /** A stream announced `node`. Returns the proxy, or a message saying why the node is refused. */
  connect(node: XdsNode, peer: string): P | { readonly error: string };
  /** The stream of `proxy` ended. */
  disconnect(proxy: P): void;
  /** Resources of `typeUrl` for `proxy`; `names` undefined means all (wildcard), else only those names. */
  generate(proxy: P, typeUrl: string, names: readonly string[] | undefined): Generated;
  /** Registers a push listener; returns a function that unregisters it. */
  onPush(listener: (event: PushEvent) => void): () => void;
}
