/**
 * The sidecar fleet: a child process holding every simulated sidecar of a benchmark run, driven by the
 * orchestrator over IPC (fleet-protocol.ts). It runs apart from the control plane so that the control
 * plane's CPU and memory can be read on their own, and it applies the changes itself so that a change's
 * start and the sidecars' ACKs are timed on one clock.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { SHORT } from '../../src/xds/type-urls.ts';
import { joiningWorkloadNode, sidecarNode } from './mesh.ts';
import type { JoinerReply, JoinerRequest, JoinerSetup } from './joiner.ts';
import type { Sidecar } from './sidecar.ts';
import type { AdsProtocol, NodeSpec, ResponseHead } from './sidecar-wire.ts';
import { Subscriptions } from './subscriptions.ts';
import type { ChangeResult, ConnectResult, Counters, FleetMessage, FleetReply, FleetRequest } from './fleet-protocol.ts';

type AckWatch = (sidecar: Sidecar, head: ResponseHead, ackedAt: number) => void;

/** Waits for `done`, at most `ms` (the caller reports what had not happened by then). */
async function within(done: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * The fleet's own collections, as they happen (start and duration on the `performance.now()` clock): one
 * process plays every sidecar, so one pause of its collector holds back all of them at once, which a
 * fleet of separate Envoys never does. Each change reports how much of it fell inside its window.
 */
const collections: PerformanceEntry[] = [];
new PerformanceObserver((list) => {
  collections.push(...list.getEntries());
  if (collections.length > 1000) collections.splice(0, collections.length - 1000);
}).observe({ entryTypes: ['gc'] });

function gcMsBetween(from: number, to: number): number {
  let ms = 0;
  for (const e of collections) if (e.startTime >= from && e.startTime <= to) ms += e.duration;
  return ms;
}

/** The lowest scheduling priority (nice 19): the joiner runs when the fleet leaves the CPU idle. */
const LOWEST_PRIORITY = 19;

class Fleet {
  #subs: Subscriptions | undefined;
  #sidecars: Sidecar[] = [];
  #target = '';
  /** The process of the joining sidecars (joiner.ts), started by `connect`. */
  #joiner: ChildProcess | undefined;
  #joins = 0;
  #counters = new Map<string, { responses: number; bytes: number }>();
  /** The control plane whose HTTP API `change` has used already. */
  #warmed: string | undefined;
  #watch: AckWatch | undefined;

  #onAck = (sidecar: Sidecar, head: ResponseHead, ackedAt: number): void => {
    const type = SHORT[head.typeUrl] ?? head.typeUrl;
    const c = this.#counters.get(type) ?? { responses: 0, bytes: 0 };
    c.responses++;
    c.bytes += head.bytes;
    this.#counters.set(type, c);
    this.#watch?.(sidecar, head, ackedAt);
  };

  async connect(xdsPort: number, proxies: number, services: number, timeoutMs: number, protocol: AdsProtocol): Promise<ConnectResult> {
    const cpu = process.cpuUsage();
    this.#target = `127.0.0.1:${xdsPort}`;
    const subs = (this.#subs = new Subscriptions(protocol, services));
    await this.#startJoiner({ target: this.#target, protocol, services });
    const bytesPerProxy: number[] = [];
    const resources: Record<string, number> = {};
    let end = 0;
    let syncedCount = 0;
    const synced = new Promise<void>((resolve) => {
      this.#watch = (s, head, at) => {
        if (s.index === 0) resources[SHORT[head.typeUrl] ?? head.typeUrl] = s.resourcesReceived.get(head.typeUrl) ?? 0;
        if (bytesPerProxy[s.index] !== undefined || !subs.isSynced(s)) return;
        bytesPerProxy[s.index] = s.bytesReceived;
        end = at;
        if (++syncedCount === proxies) resolve();
      };
    });
    const start = performance.now();
    for (let i = 0; i < proxies; i++) this.#add(sidecarNode(i, subs.vhds));
    await within(synced, timeoutMs);
    this.#watch = undefined;
    return {
      ms: (syncedCount === proxies ? end : performance.now()) - start, synced: syncedCount,
      bytesPerProxy: bytesPerProxy.filter((b) => b !== undefined), resources, errors: this.#errors(), cpuMs: cpuMsSince(cpu),
    };
  }

  /** Applies `yaml`; waits for every sidecar to ACK a new version of `typeUrl`. */
  async change(httpUrl: string, yaml: string, typeUrl: string, timeoutMs: number): Promise<ChangeResult> {
    // Node loads its fetch implementation on first use (~20 ms here): load it, and open the connection,
    // before any change is timed, so that the first change is not charged for it.
    if (this.#warmed !== httpUrl) {
      await (await fetch(`${httpUrl}/ready`)).arrayBuffer();
      this.#warmed = httpUrl;
    }
    return this.#converge(typeUrl, timeoutMs, async () => {
      const start = performance.now();
      const res = await fetch(`${httpUrl}/apply`, { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
      if (!res.ok) throw new Error(`POST /apply → ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      return performance.now() - start;
    });
  }

  /**
   * Connects a new workload of svc-0 (in the joiner process); waits for every sidecar of the fleet to ACK
   * a new version of `typeUrl`, then for the new one to hold all it subscribed to (its own initial sync,
   * reported apart, and slowed by its low priority).
   */
  async join(typeUrl: string, timeoutMs: number): Promise<ChangeResult> {
    const joiner = this.#joiner;
    if (joiner === undefined || this.#subs === undefined) throw new Error('connect first');
    const index = this.#sidecars.length + this.#joins++;
    const synced = new Promise<JoinerReply>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`the joining sidecars' process exited (code ${String(code)})`));
      joiner.once('exit', exited);
      joiner.once('message', (reply: JoinerReply) => {
        joiner.off('exit', exited);
        resolve(reply);
      });
    });
    const result = await this.#converge(typeUrl, timeoutMs, async () => {
      joiner.send({ join: joiningWorkloadNode(index, this.#subs!.vhds), index, timeoutMs } satisfies JoinerRequest);
      return undefined;
    });
    const { syncMs } = await synced;
    return { ...result, ...(syncMs === undefined ? {} : { joinerSyncMs: syncMs }) };
  }

  async #startJoiner(setup: JoinerSetup): Promise<void> {
    if (this.#joiner !== undefined) return;
    const child = fork(join(import.meta.dirname, 'joiner.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#joiner = child;
    setPriority(child.pid!, LOWEST_PRIORITY);
    const ready = once(child, 'message');
    child.send(setup);
    await ready;
  }

  /**
   * Runs `trigger` and waits until every sidecar connected before it ACKed a version of `typeUrl` other
   * than the one it held; each sidecar's time runs from the trigger's start to that ACK.
   */
  async #converge(typeUrl: string, timeoutMs: number, trigger: () => Promise<number | undefined>): Promise<ChangeResult> {
    // The fleet's own full collections (a thousand sidecars in one heap; Envoys have none) would land
    // inside some changes and delay every ACK of those: collect before the change instead.
    (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage();
    const expected = this.#sidecars.length;
    const baseline = this.#sidecars.map((s) => s.acked.get(typeUrl));
    const latenciesMs: number[] = [];
    const bytes: number[] = [];
    const seen = new Set<number>();
    let start = 0;
    let last = 0;
    const converged = new Promise<void>((resolve) => {
      this.#watch = (s, head, at) => {
        if (head.typeUrl !== typeUrl || s.index >= expected || seen.has(s.index) || head.versionInfo === baseline[s.index]) return;
        seen.add(s.index);
        latenciesMs.push(at - start);
        bytes.push(head.bytes);
        last = at;
        if (seen.size === expected) resolve();
      };
    });
    start = performance.now();
    const triggerMs = await trigger();
    await within(converged, Math.max(0, timeoutMs - (performance.now() - start)));
    this.#watch = undefined;
    // GC entries are delivered after the fact (from a later turn): let them arrive before counting.
    await new Promise((r) => setImmediate(r));
    const gcMs = gcMsBetween(start, last === 0 ? performance.now() : last);
    return { triggerMs, latenciesMs, bytes, missing: expected - seen.size, errors: this.#errors(), cpuMs: cpuMsSince(cpu), gcMs };
  }

  #add(node: NodeSpec): Sidecar {
    if (this.#subs === undefined) throw new Error('connect first');
    const sidecar = this.#subs.sidecar(this.#sidecars.length, this.#target, node, this.#onAck);
    this.#sidecars.push(sidecar);
    sidecar.start();
    return sidecar;
  }

  counters(): Counters {
    const out = Object.fromEntries(this.#counters);
    this.#counters = new Map();
    return out;
  }

  close(): void {
    for (const s of this.#sidecars) s.close();
    this.#sidecars = [];
    if (this.#joiner?.connected) this.#joiner.disconnect();
    this.#joiner = undefined;
  }

  /** How many streams failed (each sidecar reconnects), with the first few distinct errors. */
  #errors(): string[] {
    let failures = 0;
    const messages = new Set<string>();
    for (const s of this.#sidecars) {
      failures += s.failures;
      if (s.error !== undefined && messages.size < 5) messages.add(s.error.message);
    }
    if (failures === 0 && messages.size === 0) return [];
    return [`${failures} stream(s) ended and reconnected (${[...messages].join('; ') || 'no error given'})`];
  }
}

const fleet = new Fleet();

function handle(req: FleetRequest): Promise<unknown> | unknown {
  switch (req.cmd) {
    case 'connect': return fleet.connect(req.xdsPort, req.proxies, req.services, req.timeoutMs, req.protocol);
    case 'change': return fleet.change(req.httpUrl, req.yaml, req.typeUrl, req.timeoutMs);
    case 'join': return fleet.join(req.typeUrl, req.timeoutMs);
    case 'counters': return fleet.counters();
    case 'close': return fleet.close();
  }
}

process.on('message', (msg: FleetMessage) => {
  // After `close`, leaving the IPC channel lets the process exit once its streams are gone.
  const reply = (r: FleetReply) => process.send?.(r, () => msg.request.cmd === 'close' && process.disconnect());
  Promise.resolve()
    .then(() => handle(msg.request))
    .then((result) => reply({ id: msg.id, ok: true, result }), (e: unknown) => reply({ id: msg.id, ok: false, error: (e as Error).message }));
});
process.send?.({ id: 0, ok: true, result: 'ready' } satisfies FleetReply);
