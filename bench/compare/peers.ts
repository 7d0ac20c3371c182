/**
 * The peer proxies as running processes: nginx (master + one worker) or HAProxy (one process, one
 * thread) on a random free loopback port, configured by a file written into a temporary folder, pinned
 * with taskset, ready once a request through it returns the app's 1 KiB, stopped (and the folder
 * removed) by `stop()` or, whatever happens, when the benchmark exits.
 */
import { writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Target } from '../proxy/generator.ts';
import { probe, until } from '../proxy/mesh.ts';
import { haproxyConfig, nginxConfig, type Address } from './peer-configs.ts';
import { childrenOf, startTracked, tempFolder } from './processes.ts';

export type PeerKind = 'nginx' | 'haproxy';

export interface PeerProcess {
  readonly kind: PeerKind;
  readonly name: string;
  /** Where it listens, one address per upstream it was given, in that order. */
  readonly listens: readonly Address[];
  /** The processes whose CPU counts (nginx: master and worker). */
  readonly watch: ReadonlyArray<{ name: string; pid: number }>;
  /** The process that handles the traffic (nginx's worker), whose memory is reported. */
  readonly worker: { name: string; pid: number };
  stop(): Promise<void>;
}

/** A port that was free on `host` a moment ago (listen(0), then closed). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function command(kind: PeerKind, dir: string, file: string): [string, string[]] {
  return kind === 'nginx' ? ['nginx', ['-p', `${dir}/`, '-c', file, '-e', 'stderr']] : ['haproxy', ['-db', '-f', file]];
}

/**
 * Starts `kind` with one listener on 127.0.0.1 per upstream; it is ready once `probeTarget` answers
 * right through every listener.
 */
export async function startPeer(kind: PeerKind, name: string, upstreams: readonly Address[], cpus: string | undefined, probeTarget: Omit<Target, 'host' | 'port'>): Promise<PeerProcess> {
  const folder = tempFolder(`weft-bench-${name}-`);
  const dir = folder.dir;
  const routes = [];
  for (const upstream of upstreams) routes.push({ listen: { host: '127.0.0.1', port: await freePort('127.0.0.1') }, upstream });
  const file = join(dir, `${kind}.conf`);
  writeFileSync(file, (kind === 'nginx' ? nginxConfig : haproxyConfig)({ routes, dir }));
  const [cmd, args] = command(kind, dir, file);
  const proc = startTracked(cmd, args, cpus);
  const cleanup = async () => {
    await proc.stop();
    folder.remove();
  };
  try {
    const exited = () => proc.child.exitCode !== null || proc.child.signalCode !== null;
    for (const { listen } of routes) {
      await until(`${name} (${kind}) on port ${listen.port} to answer 200 with ${probeTarget.expectBytes} bytes`, async () => {
        if (exited()) throw new Error(`${name} (${kind}) exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.log()}`);
        const r = await probe({ ...probeTarget, ...listen });
        return r?.status === 200 && r.bytes === probeTarget.expectBytes;
      }, 20_000, () => proc.log());
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  const workers = kind === 'nginx' ? childrenOf(proc.pid) : [];
  const worker = workers[0] === undefined ? { name, pid: proc.pid } : { name: `${name} worker`, pid: workers[0] };
  const watch = kind === 'nginx' ? [{ name: `${name} master`, pid: proc.pid }, ...workers.map((pid) => ({ name: `${name} worker`, pid }))] : [{ name, pid: proc.pid }];
  return { kind, name, listens: routes.map((r) => r.listen), watch, worker, stop: cleanup };
}
