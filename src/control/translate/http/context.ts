/**
 * What HTTP route translation needs to know about where the routes are going: which proxy, which
 * listener port, which gateway (or the mesh), and how a VirtualService destination becomes a cluster name.
 * Built by the listener/route generators; read by `http-routes.ts`.
 */
import type { ResourceOf } from '../../../api/index.ts';
import type { ConsistentHash } from './consistent-hash.ts';

export type VirtualServiceResource = ResourceOf<'VirtualService'>;

export interface RouteContext {
  /** The proxy the routes are for: its namespace and labels decide `sourceNamespace`/`sourceLabels` matches. */
  readonly proxy: {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly kind: 'sidecar' | 'router' | 'grpc';
  };
  /** `namespace/name` of the Gateway whose routes these are, or undefined for the mesh (sidecars, gRPC). */
  readonly gateway?: string;
  /** Whether the listener terminates TLS (a gateway HTTPS server): redirects keep `https` then. */
  readonly tls?: boolean;
  /** Port of the listener / route config being built (VirtualService `match.port` filters on it). */
  readonly listenerPort: number;
  /**
   * The cluster name for a destination of a VirtualService in `vsNamespace`: `outbound|port|subset|host`,
   * or undefined when the host is not a known service (the route then answers 503 with a reason, or a
   * weighted share goes to `BlackHoleCluster`). When `dest.port` is absent the service's only port, or
   * the listener port, is used. For routes inlined from a delegate, `vsNamespace` is the delegate's.
   */
  readonly clusterFor: (dest: { readonly host: string; readonly subset?: string; readonly port?: number }, vsNamespace: string) => string | undefined;
  /**
   * The consistent-hash setting the DestinationRule of a destination's service gives it, as the proxy
   * sees that rule (subset and port-level settings applied: `destinationConsistentHash`), or undefined.
   * Its hash key becomes the route's `hash_policy`.
   */
  readonly consistentHash: (dest: { readonly host: string; readonly subset?: string; readonly port?: number }, vsNamespace: string) => ConsistentHash | undefined;
  /** Looks up a delegate VirtualService (`delegate: {name, namespace}`; namespace defaults to the root's). */
  readonly delegate: (name: string, namespace: string) => VirtualServiceResource | undefined;
}

/** An Envoy `config.route.v3.Route` as a plain camelCase object (protobufjs `fromObject` form). */
export type EnvoyRoute = Record<string, unknown>;
