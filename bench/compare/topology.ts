/**
 * Everything the HTTP/1.1 comparison sends load through, started once and shared by every run: the weft
 * benchmark mesh of bench:proxy (control plane, the 1 KiB app, sidecar A on the client side, sidecar B
 * on the server side) and, in front of the same app, nginx and HAProxy placed the same way: instance A
 * on the client side with two listeners (one to the app, one to instance B), instance B on the server
 * side forwarding to the app. So every proxy's one hop is client → A → app and its two hops are
 * client → A → B → app, with A and B on the same CPUs whatever the proxy.
 */
import type { Target } from '../proxy/generator.ts';
import { BODY_BYTES, startMesh, type Mesh, type Placement } from '../proxy/mesh.ts';
import { startPeer, type PeerKind, type PeerProcess } from './peers.ts';
import { controlPlaneOnExit, killOnExit } from './processes.ts';

export type ProxyName = 'weft' | 'nginx' | 'haproxy';
export const PROXIES: readonly ProxyName[] = ['weft', 'nginx', 'haproxy'];

/** One proxy process on a path: whose CPU counts (all of `watch`) and whose memory is reported. */
export interface ProxyInstance {
  readonly label: string;
  readonly watch: ReadonlyArray<{ name: string; pid: number }>;
  readonly memory: { name: string; pid: number };
}

export interface LoadPath {
  /** `direct`, `weft 1 hop`, `nginx 2 hops`… */
  readonly id: string;
  readonly proxy: ProxyName | 'direct';
  readonly hops: 0 | 1 | 2;
  readonly target: Target;
  /** The proxies on the path, client side first. */
  readonly instances: readonly ProxyInstance[];
}

export interface Topology {
  readonly mesh: Mesh;
  readonly appPid: number;
  readonly paths: readonly LoadPath[];
  /** One line per process: what runs where (pids and CPUs), for the report. */
  readonly processes: readonly string[];
  stop(): Promise<void>;
}

export function pathId(proxy: ProxyName | 'direct', hops: number): string {
  return proxy === 'direct' ? 'direct' : `${proxy} ${hops} hop${hops === 1 ? '' : 's'}`;
}

function peerInstance(p: PeerProcess): ProxyInstance {
  return { label: p.name, watch: p.watch, memory: p.worker };
}

async function startPeerPair(kind: PeerKind, app: { host: string; port: number }, placement: Placement | undefined): Promise<{ a: PeerProcess; b: PeerProcess }> {
  const probe = { path: '/', hostHeader: 'app', expectBytes: BODY_BYTES };
  const b = await startPeer(kind, `${kind}-b`, [app], placement?.server, probe);
  try {
    const a = await startPeer(kind, `${kind}-a`, [app, b.listens[0]!], placement?.client, probe);
    return { a, b };
  } catch (e) {
    await b.stop();
    throw e;
  }
}

function peerPaths(kind: PeerKind, pair: { a: PeerProcess; b: PeerProcess }): LoadPath[] {
  const target = (i: number): Target => ({ ...pair.a.listens[i]!, path: '/', hostHeader: 'app', expectBytes: BODY_BYTES });
  return [
    { id: pathId(kind, 1), proxy: kind, hops: 1, target: target(0), instances: [peerInstance(pair.a)] },
    { id: pathId(kind, 2), proxy: kind, hops: 2, target: target(1), instances: [peerInstance(pair.a), peerInstance(pair.b)] },
  ];
}

function weftPaths(mesh: Mesh): LoadPath[] {
  const inst = (p: { name: string; pid: number }): ProxyInstance => ({ label: `weft ${p.name}`, watch: [{ name: p.name, pid: p.pid }], memory: { name: p.name, pid: p.pid } });
  return [
    { id: 'direct', proxy: 'direct', hops: 0, target: mesh.targets.direct, instances: [] },
    { id: pathId('weft', 1), proxy: 'weft', hops: 1, target: mesh.targets.oneProxy, instances: [inst(mesh.a)] },
    { id: pathId('weft', 2), proxy: 'weft', hops: 2, target: mesh.targets.twoProxies, instances: [inst(mesh.a), inst(mesh.b)] },
  ];
}

/** Starts the weft mesh and the peers `peers` (placed by `placement`, undefined: unpinned). */
export async function startTopology(placement: Placement | undefined, peers: readonly PeerKind[]): Promise<Topology> {
  const mesh = await startMesh(placement === undefined ? {} : { placement });
  const forget = [controlPlaneOnExit(mesh.control.pid), ...[mesh.appPid, mesh.a.pid, mesh.b.pid].map(killOnExit)];
  const pairs: Array<{ kind: PeerKind; a: PeerProcess; b: PeerProcess }> = [];
  const stop = async () => {
    for (const p of pairs.reverse()) await Promise.all([p.a.stop(), p.b.stop()]);
    await mesh.stop();
    for (const f of forget) f();
  };
  try {
    const app = { host: mesh.targets.direct.host, port: mesh.targets.direct.port };
    for (const kind of peers) pairs.push({ kind, ...(await startPeerPair(kind, app, placement)) });
  } catch (e) {
    await stop();
    throw e;
  }
  const where = (side: 'client' | 'server') => (placement === undefined ? 'unpinned' : `CPU ${placement[side]}`);
  const processes = [
    `app (bench/proxy/upstream.ts, 1 KiB replies) pid ${mesh.appPid} on ${mesh.targets.direct.host}:${mesh.targets.direct.port}, ${where('server')}`,
    `weft control pid ${mesh.control.pid}, ${where('server')}`,
    `weft sidecar A ${mesh.a.name} pid ${mesh.a.pid} on ${mesh.a.ip}:15001, ${where('client')}`,
    `weft sidecar B ${mesh.b.name} pid ${mesh.b.pid} on ${mesh.b.ip}:9080, ${where('server')}`,
    ...pairs.flatMap(({ a, b }) => [a, b].map((p) =>
      `${p.name} (${p.kind}) ${p.watch.map((w) => `${w.name.slice(p.name.length + 1) || 'pid'} ${w.pid}`).join(', ')} on ${p.listens.map((l) => `${l.host}:${l.port}`).join(' + ')}, ${where(p === a ? 'client' : 'server')}`)),
  ];
  return { mesh, appPid: mesh.appPid, paths: [...weftPaths(mesh), ...pairs.flatMap((p) => peerPaths(p.kind, p))], processes, stop };
}
