/**
 * Services from config: a core `Service` becomes one service (its Kubernetes host name), a
 * `ServiceEntry` one service per host, as Istio's kube and serviceentry registries convert them.
 * https://istio.io/latest/docs/reference/config/networking/service-entry/
 */
import { parseProtocol, resolveHost, servicePortProtocol, type ResourceOf } from '../api/index.ts';
import type { RegistryConfig, Service, ServicePort } from './model.ts';
import { exportToAnnotation, resolveExportTo, serviceHostname } from './names.ts';
import { memoized } from '../util/memo.ts';

/** Services converted per resource object (unchanged resources keep theirs, see workloads.ts). */
const converted = new WeakMap<object, readonly Service[]>();
const serviceAsList = (svc: ResourceOf<'Service'>): readonly Service[] => [fromService(svc)];

/** Every service declared by `config`, sorted by hostname then namespace. */
export function servicesFromConfig(config: RegistryConfig): Service[] {
  const out: Service[] = [];
  for (const svc of config.of('Service')) out.push(...memoized(converted, svc, serviceAsList));
  for (const se of config.of('ServiceEntry')) out.push(...memoized(converted, se, fromServiceEntry));
  return out.sort(compareServices);
}

export function compareServices(a: Service, b: Service): number {
  return cmp(a.hostname, b.hostname) || cmp(a.namespace, b.namespace) || cmp(a.kind, b.kind) || cmp(a.name, b.name);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function nonEmpty(labels: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  return labels === undefined || Object.keys(labels).length === 0 ? undefined : labels;
}

function fromService(svc: ResourceOf<'Service'>): Service {
  const { name, namespace } = svc.metadata;
  const spec = svc.spec;
  const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    // A UDP port is never HTTP/TCP traffic whatever its name says (Istio's kube.ConvertProtocol).
    protocol: p.protocol === 'UDP' ? 'UDP' : servicePortProtocol(p),
    targetPort: p.targetPort ?? p.port,
  }));
  const addresses = [...new Set([spec.clusterIP, ...(spec.clusterIPs ?? [])])]
    .filter((a): a is string => a !== undefined && a !== '' && a !== 'None');
  // Kubernetes ignores the selector of an ExternalName Service.
  const selector = spec.type === 'ExternalName' ? undefined : nonEmpty(spec.selector);
  return {
    hostname: serviceHostname(name, namespace),
    namespace,
    name,
    kind: 'Service',
    ports,
    ...(selector === undefined ? {} : { selector }),
    exportTo: resolveExportTo(exportToAnnotation(svc.metadata.annotations), namespace),
    // ExternalName services are a DNS name (Istio resolves them like a DNS ServiceEntry).
    resolution: spec.type === 'ExternalName' ? 'DNS' : 'STATIC',
    location: 'MESH_INTERNAL',
    addresses,
    subjectAltNames: [],
    ...(spec.type === 'ExternalName' && spec.externalName ? { externalName: spec.externalName } : {}),
  };
}

function fromServiceEntry(se: ResourceOf<'ServiceEntry'>): Service[] {
  const { name, namespace } = se.metadata;
  const spec = se.spec;
  const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
    name: p.name,
    port: p.number,
    protocol: p.protocol === undefined || p.protocol === '' ? undefined : parseProtocol(p.protocol),
    targetPort: p.targetPort ?? p.number,
  }));
  // A workloadSelector with no labels selects every workload of the namespace (Istio warns, but allows it).
  const selector = spec.workloadSelector === undefined ? undefined : (spec.workloadSelector.labels ?? {});
  const exportTo = resolveExportTo(spec.exportTo, namespace);
  return [...new Set(spec.hosts.map((h) => resolveHost(h, namespace)))].map((hostname) => ({
    hostname,
    namespace,
    name,
    kind: 'ServiceEntry',
    ports,
    ...(selector === undefined ? {} : { selector }),
    exportTo,
    resolution: spec.resolution ?? 'NONE',
    location: spec.location ?? 'MESH_EXTERNAL',
    addresses: spec.addresses ?? [],
    subjectAltNames: spec.subjectAltNames ?? [],
  }));
}
