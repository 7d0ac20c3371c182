/**
 * The endpoints of one service port: which workloads back it and on which port, following Istio's
 * rules for Kubernetes Services (selector + targetPort) and ServiceEntries (inline endpoints, or a
 * workloadSelector, or for DNS resolution the host itself).
 */
import type { Endpoint, Service, ServicePort, Workload } from './model.ts';

/** Candidate workloads for a selector-based service: the namespace's workloads that match the selector. */
export type SelectWorkloads = (namespace: string, selector: Readonly<Record<string, string>>) => readonly Workload[];

export function endpointsOf(service: Service, port: ServicePort, select: SelectWorkloads, inline: readonly Workload[]): Endpoint[] {
  if (service.kind === 'Service') return serviceEndpoints(service, port, select);
  if (service.resolution === 'NONE') return [];
  if (inline.length > 0) return seEndpoints(inline, port);
  if (service.selector !== undefined) return seEndpoints(select(service.namespace, service.selector), port);
  // A DNS ServiceEntry without endpoints resolves its own host (Envoy STRICT_DNS on the host name).
  if ((service.resolution === 'DNS' || service.resolution === 'DNS_ROUND_ROBIN') && !service.hostname.includes('*')) {
    return [hostEndpoint(service.hostname, typeof port.targetPort === 'number' ? port.targetPort : port.port, service.namespace)];
  }
  return [];
}

/**
 * Kubernetes Service: a named targetPort is looked up in the workload's named ports (workloads without
 * it are skipped); a numeric one applies as is, except that a WorkloadEntry's `ports` entry for the
 * service port's name overrides it (Istio's serviceInstanceFromWorkloadInstance).
 */
function serviceEndpoints(service: Service, port: ServicePort, select: SelectWorkloads): Endpoint[] {
  if (service.resolution === 'DNS') return externalNameEndpoints(service, port);
  if (service.selector === undefined) return [];
  const out: Endpoint[] = [];
  for (const w of select(service.namespace, service.selector)) {
    let target: number | undefined;
    if (typeof port.targetPort === 'string') target = w.namedPorts[port.targetPort];
    else target = (w.origin === 'WorkloadEntry' && port.name !== '' ? w.namedPorts[port.name] : undefined) ?? port.targetPort;
    if (target !== undefined && w.address !== '') out.push(endpoint(w, target));
  }
  return out;
}

/** ExternalName Service: one endpoint, the external DNS name on the service port (as Istio converts it). */
function externalNameEndpoints(service: Service, port: ServicePort): Endpoint[] {
  return service.externalName === undefined ? [] : [hostEndpoint(service.externalName, port.port, service.namespace)];
}

/** ServiceEntry: the endpoint's `ports` entry for the port name wins, then targetPort, then the port (already the default of targetPort). */
function seEndpoints(workloads: readonly Workload[], port: ServicePort): Endpoint[] {
  const out: Endpoint[] = [];
  for (const w of workloads) {
    if (w.address === '') continue;
    // A unix socket has no port.
    const target = w.address.startsWith('unix://') ? 0 : (w.namedPorts[port.name] ?? (typeof port.targetPort === 'number' ? port.targetPort : port.port));
    out.push(endpoint(w, target));
  }
  return out;
}

function endpoint(w: Workload, port: number): Endpoint {
  return {
    address: w.address,
    port,
    labels: w.labels,
    serviceAccount: w.serviceAccount,
    namespace: w.namespace,
    ...(w.locality === undefined ? {} : { locality: w.locality }),
    weight: w.weight,
    healthy: w.healthy,
    workload: w.name,
  };
}

function hostEndpoint(host: string, port: number, namespace: string): Endpoint {
  return { address: host, port, labels: {}, serviceAccount: '', namespace, weight: 1, healthy: true, workload: '' };
}
