/**
 * The node metadata a proxy announces in its first xDS request, with Istio's key names (so Istio
 * tooling reads it) plus weft's local-mode additions. The control plane turns it into a workload;
 * the proxy (and `weft run`) writes it.
 * https://github.com/istio/istio/blob/master/pkg/model/proxy.go (NodeMetadata)
 */

export const META = {
  namespace: 'NAMESPACE',
  labels: 'LABELS',
  serviceAccount: 'SERVICE_ACCOUNT',
  workloadName: 'WORKLOAD_NAME',
  /** Pod name in Istio; the workload instance name here. */
  name: 'NAME',
  /** Comma-separated IPs of the workload; the first is its address. */
  instanceIps: 'INSTANCE_IPS',
  /** `REDIRECT`/`TPROXY` (transparent capture) or `NONE` (local mode: explicit HTTP proxy and listeners). */
  interceptionMode: 'INTERCEPTION_MODE',
  /** JSON array of container ports `[{"name":"http","containerPort":9080,"protocol":"TCP"}]`, as Istio. */
  podPorts: 'POD_PORTS',
  /** `grpc` for proxyless gRPC clients (Istio's generator selection). */
  generator: 'GENERATOR',
  clusterId: 'CLUSTER_ID',
  meshId: 'MESH_ID',
  istioVersion: 'ISTIO_VERSION',
  /** weft local mode: JSON object container port → local app port, e.g. `{"9080": 41873}`. */
  appPorts: 'WEFT_APP_PORTS',
  /**
   * `true` when the proxy takes its outbound virtual hosts over VHDS (delta xDS): a change to one
   * service then ships that service's virtual host alone instead of the whole route configuration.
   */
  vhds: 'WEFT_VHDS',
  /** `1`: the proxy's HTTP listeners accept HTTP/1.0 (Istio's `HTTP10`; otherwise such requests get 426). */
  http10: 'HTTP10',
} as const;

export interface PodPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}
