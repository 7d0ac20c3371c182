/**
 * The benchmark's mesh: N services `svc-K` (port 9080 `http`), each with two WorkloadEntries (v1, v2)
 * and a DestinationRule with v1/v2 subsets, in namespace `default`; the changes the benchmark applies;
 * and the names and node identities the simulated sidecars use. Orchestrator and sidecar fleet both
 * derive their names from here, so they agree on what exists.
 */
import { META } from '../../src/xds/node-metadata.ts';
import { TYPE } from '../../src/xds/type-urls.ts';
import type { NodeSpec } from './sidecar-wire.ts';

const NS = 'default';
const PORT = 9080;
const host = (k: number): string => `svc-${k}.${NS}.svc.cluster.local`;

/** An address per (service, version) in 10.0.0.0/8, unique for up to 65,536 services. */
const workloadAddress = (k: number, version: number): string => `10.${1 + (k >> 8)}.${k & 255}.${version}`;

function serviceYaml(k: number): string {
  const entry = (v: number) => `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: svc-${k}-v${v}, namespace: ${NS}}
spec:
  address: ${workloadAddress(k, v)}
  labels: {app: svc-${k}, version: v${v}}
`;
  return `apiVersion: v1
kind: Service
metadata: {name: svc-${k}, namespace: ${NS}}
spec:
  selector: {app: svc-${k}}
  ports: [{name: http, port: ${PORT}, targetPort: ${PORT}}]
---
${entry(1)}---
${entry(2)}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc-${k}, namespace: ${NS}}
spec:
  host: svc-${k}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;
}

/** Every service with its workloads and DestinationRule: 4 resources per service. */
export function meshYaml(services: number): string {
  return Array.from({ length: services }, (_, k) => serviceYaml(k)).join('---\n');
}

/** With Sidecar scoping, each proxy sees this many services (svc-0 … svc-9), as a workload that talks to a few. */
export const SCOPED_SERVICES = 10;

/**
 * A namespace-wide Sidecar (no workload selector) limiting every proxy's egress to the first
 * SCOPED_SERVICES services: Istio's main scaling lever, measured against the whole-mesh default.
 */
export function sidecarScopeYaml(services: number): string {
  const hosts = Array.from({ length: Math.min(SCOPED_SERVICES, services) }, (_, k) => `    - ./${host(k)}`).join('\n');
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: ${NS}}
spec:
  egress:
  - hosts:
${hosts}
`;
}

/** Change `i` (0-based) to routing: a VirtualService on svc-0 splitting v1/v2, a different split each time. */
export function virtualServiceChange(i: number): string {
  const v1 = 80 - 10 * (i % 8);
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc-0, namespace: ${NS}}
spec:
  hosts: [svc-0]
  http:
  - route:
    - {destination: {host: svc-0, subset: v1}, weight: ${v1}}
    - {destination: {host: svc-0, subset: v2}, weight: ${100 - v1}}
`;
}

/** Change `i` (0-based) to endpoints only: svc-0's v1 WorkloadEntry moves to a new address. */
export function endpointChange(i: number): string {
  return `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: svc-0-v1, namespace: ${NS}}
spec:
  address: 10.250.${(i >> 8) & 255}.${i & 255}
  labels: {app: svc-0, version: v1}
`;
}

/** The EDS clusters a sidecar learns from CDS: the default cluster and both subsets of every service. */
export function edsClusterNames(services: number): string[] {
  const names: string[] = [];
  for (let k = 0; k < services; k++) for (const subset of ['', 'v1', 'v2']) names.push(`outbound|${PORT}|${subset}|${host(k)}`);
  return names;
}

/**
 * How many resources of each type a sidecar holds once synced (delta responses may come in parts, so a
 * sidecar counts what it received): per service a default and two subset clusters with their endpoints
 * and, over VHDS, a virtual host; plus PassthroughCluster, BlackHoleCluster and the inbound cluster; the
 * outbound and inbound listeners; route configuration 15001.
 */
export function expectedResources(services: number, vhds: boolean): ReadonlyMap<string, number> {
  return new Map([
    [TYPE.cluster, 3 * services + 3], [TYPE.endpoint, 3 * services], [TYPE.listener, 2], [TYPE.route, 1],
    ...(vhds ? [[TYPE.virtualHost, services] as [string, number]] : []),
  ]);
}

/** The local-mode HTTP proxy listener's route configuration, the only one a sidecar asks for (and, with VHDS, its virtual hosts). */
export const SIDECAR_ROUTE_NAMES: readonly string[] = ['15001'];

/** Sidecar `i` (0-based): its own loopback address and an app label that no benchmark Service selects. */
export function sidecarNode(i: number, vhds: boolean): NodeSpec {
  return node(i, `app-${i}`, { app: `app-${i}` }, vhds);
}

/**
 * Sidecar `i` of a new workload of svc-0 v1: when it connects, the registry adds its endpoint to
 * svc-0 (the endpoint-only push path, EDS alone).
 */
export function joiningWorkloadNode(i: number, vhds: boolean): NodeSpec {
  return node(i, `svc-0-v1-${i}`, { app: 'svc-0', version: 'v1' }, vhds);
}

function node(i: number, name: string, labels: Readonly<Record<string, string>>, vhds: boolean): NodeSpec {
  const ip = `127.0.${2 + Math.floor(i / 250)}.${1 + (i % 250)}`;
  return {
    id: `sidecar~${ip}~${name}.${NS}~${NS}.svc.cluster.local`,
    cluster: name,
    metadata: {
      [META.namespace]: NS,
      [META.labels]: labels,
      [META.workloadName]: name,
      [META.instanceIps]: ip,
      [META.podPorts]: JSON.stringify([{ name: 'http', containerPort: PORT, protocol: 'TCP' }]),
      [META.interceptionMode]: 'NONE',
      // As `weft proxy` announces: outbound virtual hosts over VHDS (delta streams only).
      ...(vhds ? { [META.vhds]: 'true' } : {}),
    },
  };
}
