/**
 * The service registry's model: services (from Service and ServiceEntry), the workloads behind them
 * (proxies that registered, WorkloadEntries, ServiceEntry endpoints) and the endpoints that result.
 * A `RegistrySnapshot` is immutable; a new one is built on every change. The control plane's generators
 * read it; they never see where a service came from beyond `origin`.
 */
import type { KindName, Protocol, ResourceOf } from '../api/index.ts';

/**
 * What the registry reads from config: the control plane's `ConfigSnapshot` satisfies it. Declared here
 * so the registry does not depend on the control plane.
 */
export interface RegistryConfig {
  of<K extends KindName>(kind: K): readonly ResourceOf<K>[];
  /** The resource with key `Kind/namespace/name`, if any (lets a change of a few WorkloadEntries skip a full rebuild). */
  find?(key: string): { readonly kind: string } | undefined;
}

/** A workload that can serve traffic: a registered proxy (local mode's pod), or a WorkloadEntry. */
export interface Workload {
  /** Unique within the namespace: the proxy's workload name, or the WorkloadEntry's name. */
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** IP address (or hostname for DNS WorkloadEntries, or `unix://` path). */
  readonly address: string;
  /** Named container ports (`http` → 9080), for Services' named `targetPort`s and WorkloadEntry `ports`. */
  readonly namedPorts: Readonly<Record<string, number>>;
  readonly locality?: string;
  readonly network?: string;
  /** Load-balancing weight (WorkloadEntry `weight`), default 1. */
  readonly weight: number;
  readonly healthy: boolean;
  /** `proxy` (registered over ADS), `WorkloadEntry` or `ServiceEntry` (an inline endpoint). */
  readonly origin: 'proxy' | 'WorkloadEntry' | 'ServiceEntry';
  /** Proxy id when `origin` is `proxy`. */
  readonly proxyId?: string;
  /** `namespace/name` of the declaring ServiceEntry when `origin` is `ServiceEntry`: only its services select it. */
  readonly serviceEntry?: string;
}

export interface ServicePort {
  /** Port name (Service port name / ServiceEntry port name); may be empty for single-port Services. */
  readonly name: string;
  /** The service port clients connect to. */
  readonly port: number;
  /** Protocol Istio would select (name prefix, appProtocol, ServiceEntry protocol); undefined → TCP/sniffed. */
  readonly protocol: Protocol | undefined;
  /** Service `targetPort` (number or container port name); ServiceEntry `targetPort`; default `port`. */
  readonly targetPort: number | string;
}

export type Resolution = 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'NONE';

export interface Service {
  /** FQDN (`reviews.default.svc.cluster.local`) or a ServiceEntry host (may be `*.example.com`). */
  readonly hostname: string;
  /** Namespace of the Service / ServiceEntry that declares it. */
  readonly namespace: string;
  /** Name of the declaring resource. */
  readonly name: string;
  readonly kind: 'Service' | 'ServiceEntry';
  readonly ports: readonly ServicePort[];
  /** Service selector or ServiceEntry workloadSelector labels; undefined selects nothing. */
  readonly selector?: Readonly<Record<string, string>>;
  /** Visibility, as in Istio: `*` (default), `.`, `~` or namespace names; `.` already resolved to `namespace`. */
  readonly exportTo: readonly string[];
  readonly resolution: Resolution;
  readonly location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  /** Virtual addresses (ServiceEntry `addresses`, Service clusterIP). */
  readonly addresses: readonly string[];
  readonly subjectAltNames: readonly string[];
  /** ExternalName Services: the DNS name that is their only endpoint (resolution DNS). */
  readonly externalName?: string;
}

/** One endpoint of one service port: where to send traffic and what the LB and subsets need to know. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly namespace: string;
  readonly locality?: string;
  readonly weight: number;
  readonly healthy: boolean;
  /** The workload behind it (for debug output and the proxy's own inbound endpoints). */
  readonly workload: string;
}

export interface RegistrySnapshot {
  /** Increases with every change (config or workloads). */
  readonly version: number;
  readonly services: readonly Service[];
  readonly workloads: readonly Workload[];
  /** Services by hostname (several when a host is declared in several namespaces). */
  servicesByHost(hostname: string): readonly Service[];
  /** Endpoints of `service` for its port `port` (the service port, not the target port). */
  endpoints(service: Service, port: number): readonly Endpoint[];
  /** The services that select `workload` (its inbound side). */
  servicesOf(workload: Workload): readonly Service[];
}
