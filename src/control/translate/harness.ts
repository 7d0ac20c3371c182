/**
 * Test support for translation: a mesh from YAML config plus proxies described by their node, the xDS
 * each proxy would receive (generated, encoded with the real protos and decoded back), and the
 * simulator to say where a call lands. Used by translation tests and the control plane's own tests.
 */
import { parseConfig } from '../../api/index.ts';
import { configSnapshot } from '../config-snapshot.ts';
import { buildRegistrySnapshot, servicesFromConfig, workloadsFromConfig } from '../../registry/index.ts';
import { PushContext, type MeshSettings, DEFAULT_MESH } from '../push/push-context.ts';
import { XdsGenerator } from '../xds-generator.ts';
import { parseProxy, workloadOf, type Proxy } from '../proxy.ts';
import { decodeResource } from '../../xds/protos.ts';
import { TYPE, collectionOf } from '../../xds/type-urls.ts';
import { META } from '../../xds/node-metadata.ts';
import { simulate, type Call, type ProxyConfig, type SimResult } from '../simulate/index.ts';
import type { Workload } from '../../registry/model.ts';

/** Services `a` and `b` (port 80 `http`), each with one WorkloadEntry at 10.0.0.1: the smallest mesh with two hosts. */
export const TWO_SERVICES = ['a', 'b'].map((n) => `apiVersion: v1
kind: Service
metadata: {name: ${n}}
spec:
  selector: {app: ${n}}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${n}-1}
spec: {address: 10.0.0.1, labels: {app: ${n}}}
`).join('---\n');

export interface NodeSpec {
  readonly kind?: 'sidecar' | 'router' | 'grpc';
  readonly ip: string;
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly serviceAccount?: string;
  /** Container ports, e.g. `[{name: 'http', containerPort: 9080}]`. */
  readonly ports?: readonly { name?: string; containerPort: number }[];
  /** The proxy takes its outbound virtual hosts over VHDS (as `weft proxy` does). */
  readonly vhds?: boolean;
  /** Node metadata `HTTP10: '1'` (the proxy accepts HTTP/1.0). */
  readonly http10?: boolean;
}

export function nodeOf(spec: NodeSpec): { id: string; cluster: string; metadata: Record<string, unknown> } {
  const ns = spec.namespace ?? 'default';
  const kind = spec.kind ?? 'sidecar';
  return {
    id: `${kind}~${spec.ip}~${spec.name}.${ns}~${ns}.svc.cluster.local`,
    cluster: spec.name,
    metadata: {
      [META.namespace]: ns, [META.labels]: spec.labels ?? {}, [META.workloadName]: spec.name,
      [META.serviceAccount]: spec.serviceAccount ?? 'default', [META.instanceIps]: spec.ip,
      [META.podPorts]: JSON.stringify(spec.ports ?? []), [META.interceptionMode]: 'NONE',
      ...(kind === 'grpc' ? { [META.generator]: 'grpc' } : {}),
      ...(spec.vhds === true ? { [META.vhds]: 'true' } : {}),
      ...(spec.http10 === true ? { [META.http10]: '1' } : {}),
    },
  };
}

export interface TestMesh {
  readonly ctx: PushContext;
  readonly generator: XdsGenerator;
  readonly proxies: ReadonlyMap<string, Proxy>;
  /** What `name`'s proxy receives, decoded back from the encoded resources. */
  config(name: string): ProxyConfig;
  /** Where `call` from `name`'s proxy lands. */
  call(name: string, call: Call): SimResult;
}

export function testMesh(yaml: string, nodes: readonly NodeSpec[], mesh: MeshSettings = DEFAULT_MESH): TestMesh {
  const set = parseConfig(yaml, 'mesh.yaml');
  const errors = set.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(`test config is invalid: ${errors.map((e) => `${e.line} ${e.field}: ${e.message}`).join('; ')}`);
  const cfg = configSnapshot(1, set.resources);
  const proxies = new Map(nodes.map((n) => [n.name, parseProxy(nodeOf(n))]));
  const workloads: Workload[] = [...workloadsFromConfig(cfg)];
  for (const p of proxies.values()) {
    const w = workloadOf(p);
    if (w !== undefined && p.kind === 'sidecar') workloads.push(w);
  }
  const registry = buildRegistrySnapshot(1, servicesFromConfig(cfg), workloads);
  const ctx = new PushContext('1', cfg, registry, mesh);
  const generator = new XdsGenerator(ctx, { onError: (_p, type, name, e) => { throw new Error(`${type} ${name}: ${e.message}`); } });
  const decodeAll = (p: Proxy, typeUrl: string, names: readonly string[] | undefined): Record<string, Record<string, unknown>> => {
    const out: Record<string, Record<string, unknown>> = {};
    for (const r of generator.generate(p, typeUrl, names).resources) out[r.name] = decodeResource(typeUrl, r.body);
    return out;
  };
  // A VHDS client's view: each route configuration with `vhds` gets the virtual hosts of its collection.
  const withVirtualHosts = (p: Proxy, routes: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> => {
    const vhds = Object.keys(routes).filter((n) => routes[n]?.['vhds'] !== undefined);
    if (vhds.length === 0) return routes;
    const hosts = Object.entries(decodeAll(p, TYPE.virtualHost, vhds));
    const out = { ...routes };
    for (const n of vhds) {
      const own = hosts.filter(([name]) => collectionOf(name) === n).map(([, vh]) => vh);
      out[n] = { ...routes[n], virtualHosts: [...(routes[n]?.['virtualHosts'] as unknown[] ?? []), ...own] };
    }
    return out;
  };
  const config = (name: string): ProxyConfig => {
    const p = proxies.get(name);
    if (p === undefined) throw new Error(`no proxy ${name}`);
    const listeners = decodeAll(p, TYPE.listener, undefined);
    const routeNames = Object.values(listeners).flatMap((l) => JSON.stringify(l).match(/"routeConfigName":"([^"]+)"/g) ?? [])
      .map((m) => m.slice('"routeConfigName":"'.length, -1));
    const clusters = decodeAll(p, TYPE.cluster, undefined);
    const eds = Object.entries(clusters).filter(([, c]) => (c as { type?: string }).type === 'EDS').map(([n]) => n);
    return { listeners, routes: withVirtualHosts(p, decodeAll(p, TYPE.route, routeNames)), clusters, endpoints: decodeAll(p, TYPE.endpoint, eds) };
  };
  return { ctx, generator, proxies, config, call: (name, c) => simulate(config(name), c) };
}
