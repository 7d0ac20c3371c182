/**
 * A connected proxy as the control plane sees it: what its node id and metadata say it is (sidecar,
 * gateway router, proxyless gRPC client), and the workload it stands for. Parsing is strict and every
 * refusal says which field is wrong, since a refused node never gets config.
 * Node id: `<type>~<ip>~<workload>.<namespace>~<namespace>.svc.cluster.local` (Istio's format).
 */
import { META, type PodPort } from '../xds/node-metadata.ts';
import type { XdsNode } from '../xds/resource-server.ts';
import type { Workload } from '../registry/model.ts';
import { isIP } from 'node:net';

export type ProxyKind = 'sidecar' | 'router' | 'grpc';

export interface Proxy {
  readonly id: string;
  readonly kind: ProxyKind;
  readonly ip: string;
  readonly namespace: string;
  readonly workloadName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly ports: readonly PodPort[];
  /** Container port → local app port (local mode); absent ports forward to the same number. */
  readonly appPorts: ReadonlyMap<number, number>;
  /** `NONE` in local mode (explicit HTTP proxy), `REDIRECT` with transparent capture. */
  readonly interceptionMode: 'NONE' | 'REDIRECT' | 'TPROXY';
  readonly locality?: string;
  /** Takes outbound virtual hosts over VHDS (node metadata `WEFT_VHDS`; needs delta xDS). */
  readonly vhds: boolean;
  /** Its HTTP listeners accept HTTP/1.0 (node metadata `HTTP10` = `1`, as Istio reads it). */
  readonly http10: boolean;
  readonly node: XdsNode;
}

export class NodeError extends Error {
  readonly code = 'XDS_NODE';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function labelsOf(v: unknown): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
}

function jsonField<T>(meta: Readonly<Record<string, unknown>>, key: string, check: (v: unknown) => v is T, fallback: T): T {
  const raw = meta[key];
  if (raw === undefined) return fallback;
  let v: unknown = raw;
  if (typeof raw === 'string') {
    try {
      v = JSON.parse(raw);
    } catch {
      throw new NodeError(`node metadata ${key} is not valid JSON (got ${JSON.stringify(raw.slice(0, 80))})`);
    }
  }
  if (!check(v)) throw new NodeError(`node metadata ${key} has the wrong shape (got ${JSON.stringify(v).slice(0, 80)})`);
  return v;
}

const isPodPorts = (v: unknown): v is PodPort[] =>
  Array.isArray(v) && v.every((p) => p !== null && typeof p === 'object' && Number.isInteger((p as PodPort).containerPort));
const isPortMap = (v: unknown): v is Record<string, number> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => Number.isInteger(x));

function kindOf(node: XdsNode, prefix: string): ProxyKind {
  if (node.metadata[META.generator] === 'grpc' || prefix === 'grpc') return 'grpc';
  if (prefix === 'router') return 'router';
  if (prefix === 'sidecar') return 'sidecar';
  throw new NodeError(`node id ${JSON.stringify(node.id)} must start with sidecar~, router~ or grpc~`);
}

/** Parses a node into a proxy, or throws a NodeError naming the problem. */
export function parseProxy(node: XdsNode): Proxy {
  const parts = node.id.split('~');
  if (parts.length !== 4) throw new NodeError(`node id ${JSON.stringify(node.id)} must have 4 parts: <type>~<ip>~<workload>.<namespace>~<namespace>.svc.cluster.local`);
  const [prefix, idIp, podPart, domain] = parts as [string, string, string, string];
  const kind = kindOf(node, prefix);
  const meta = node.metadata;
  const ip = str(meta[META.instanceIps])?.split(',')[0]?.trim() ?? idIp;
  if (isIP(ip) === 0) throw new NodeError(`node address ${JSON.stringify(ip)} is not an IP address`);
  const namespace = str(meta[META.namespace]) ?? (domain.split('.')[0] || undefined) ?? podPart.split('.')[1];
  if (namespace === undefined) throw new NodeError(`node ${JSON.stringify(node.id)} names no namespace`);
  const dot = podPart.lastIndexOf('.');
  const workloadName = str(meta[META.workloadName]) ?? str(meta[META.name]) ?? (dot > 0 ? podPart.slice(0, dot) : podPart);
  const ports = jsonField(meta, META.podPorts, isPodPorts, []);
  const appPorts = jsonField(meta, META.appPorts, isPortMap, {});
  const mode = str(meta[META.interceptionMode]) ?? 'NONE';
  if (mode !== 'NONE' && mode !== 'REDIRECT' && mode !== 'TPROXY') throw new NodeError(`node metadata INTERCEPTION_MODE must be NONE, REDIRECT or TPROXY (got ${JSON.stringify(mode)})`);
  const loc = node.locality;
  const locality = loc && (loc.region || loc.zone || loc.subZone) ? [loc.region ?? '', loc.zone ?? '', loc.subZone ?? ''].join('/') : undefined;
  return {
    id: node.id, kind, ip, namespace, workloadName,
    labels: labelsOf(meta[META.labels]),
    serviceAccount: str(meta[META.serviceAccount]) ?? 'default',
    ports, appPorts: new Map(Object.entries(appPorts).map(([k, v]) => [Number(k), v])),
    interceptionMode: mode, node,
    vhds: meta[META.vhds] === true || meta[META.vhds] === 'true',
    http10: meta[META.http10] === '1',
    ...(locality !== undefined ? { locality } : {}),
  };
}

/** The workload a sidecar or gateway stands for in the registry (proxyless clients serve nothing). */
export function workloadOf(p: Proxy): Workload | undefined {
  if (p.kind === 'grpc' && p.ports.length === 0) return undefined;
  const namedPorts: Record<string, number> = {};
  for (const port of p.ports) if (port.name) namedPorts[port.name] = port.containerPort;
  return {
    name: p.workloadName, namespace: p.namespace, labels: p.labels, serviceAccount: p.serviceAccount,
    address: p.ip, namedPorts, weight: 1, healthy: true, origin: 'proxy', proxyId: p.id,
    ...(p.locality !== undefined ? { locality: p.locality } : {}),
  };
}
