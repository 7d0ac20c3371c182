/**
 * Core v1 Service, as weft's local mode uses it (as Kubernetes does): a selector over workload labels
 * and the ports the service exposes. Every ServiceSpec field is accepted and checked, so manifests
 * written for Kubernetes validate unchanged. https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/
 */
import * as z from 'zod';
import { check, obj, oneOf, rules } from '../../schema/object.ts';
import { bool, cidr, intIn, ipAddress, port, str, selectorLabels } from '../../schema/primitives.ts';
import { dns1123LabelProblem } from '../../schema/names.ts';
import { servicePortProtocol } from '../../protocol.ts';
import { showValue } from '../../errors.ts';
import { defineKind } from '../kind.ts';

const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** `targetPort`: a port number, or the name of a container port (an IANA service name). */
const TargetPort = z.union([port(), check(str(), (v) =>
  v.length <= 15 && IANA_SVC_NAME.test(v) && !v.includes('--') ? undefined : `must be a port number or a port name of at most 15 lowercase letters, digits and '-' (got ${showValue(v)})`)]);

export const ServicePort = obj({
  name: check(str(), dns1123LabelProblem).optional(),
  protocol: oneOf(['TCP', 'UDP', 'SCTP']).optional(),
  appProtocol: str().optional(),
  port: port(),
  targetPort: TargetPort.optional(),
  nodePort: intIn(1, 65535).optional(),
});
export type ServicePort = z.output<typeof ServicePort>;

export const ServiceSpec = rules(
  obj({
    selector: selectorLabels().optional(),
    ports: z.array(ServicePort).optional(),
    type: oneOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
    clusterIP: str().optional(),
    clusterIPs: z.array(str()).optional(),
    externalName: str().optional(),
    externalIPs: z.array(ipAddress()).optional(),
    sessionAffinity: oneOf(['None', 'ClientIP']).optional(),
    sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: intIn(1, 86400).optional() }).optional() }).optional(),
    loadBalancerIP: str().optional(),
    loadBalancerSourceRanges: z.array(cidr()).optional(),
    loadBalancerClass: str().optional(),
    allocateLoadBalancerNodePorts: bool().optional(),
    externalTrafficPolicy: oneOf(['Cluster', 'Local']).optional(),
    internalTrafficPolicy: oneOf(['Cluster', 'Local']).optional(),
    healthCheckNodePort: intIn(1, 65535).optional(),
    publishNotReadyAddresses: bool().optional(),
    ipFamilies: z.array(oneOf(['IPv4', 'IPv6'])).max(2).optional(),
    ipFamilyPolicy: oneOf(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
    trafficDistribution: str().optional(),
  }),
  (s, report) => {
    const ports = s.ports ?? [];
    if (s.type !== 'ExternalName' && ports.length === 0 && s.clusterIP !== 'None') {
      report({ path: ['ports'], message: 'a Service needs at least one port (or clusterIP: None for a headless service)' });
    }
    if (s.type === 'ExternalName' && !s.externalName) report({ path: ['externalName'], message: 'is required when type is ExternalName' });
    if (s.clusterIP !== undefined && s.clusterIP !== '' && s.clusterIP !== 'None' && ipAddress().safeParse(s.clusterIP).success === false) {
      report({ path: ['clusterIP'], message: `must be an IP address, "None" or empty (got ${showValue(s.clusterIP)})` });
    }
    const names = new Set<string>();
    const numbers = new Set<string>();
    ports.forEach((p, i) => {
      if (ports.length > 1 && !p.name) report({ path: ['ports', i, 'name'], message: 'is required when a Service has more than one port' });
      if (p.name) {
        if (names.has(p.name)) report({ path: ['ports', i, 'name'], message: `duplicate port name ${showValue(p.name)}` });
        names.add(p.name);
      }
      const key = `${p.port}/${p.protocol ?? 'TCP'}`;
      if (numbers.has(key)) report({ path: ['ports', i, 'port'], message: `duplicate port ${key}` });
      numbers.add(key);
      if (p.nodePort !== undefined && s.type !== 'NodePort' && s.type !== 'LoadBalancer') {
        report({ path: ['ports', i, 'nodePort'], message: 'is only allowed when type is NodePort or LoadBalancer' });
      }
      if ((p.protocol ?? 'TCP') !== 'UDP' && servicePortProtocol(p) === undefined && p.name !== undefined && p.appProtocol !== undefined) {
        report({ path: ['ports', i, 'appProtocol'], severity: 'warning', message: `unknown appProtocol ${showValue(p.appProtocol)}: the mesh will detect the protocol` });
      }
    });
  },
);
export type ServiceSpec = z.output<typeof ServiceSpec>;

export const Service = defineKind({
  kind: 'Service',
  group: '',
  versions: ['v1'],
  plural: 'services',
  shortNames: ['svc'],
  nameRule: 'dns1035-label',
  spec: ServiceSpec,
});
