/**
 * The sidecar fleet: a child process holding every simulated sidecar of a benchmark run, driven by the
 * orchestrator over IPC (fleet-protocol.ts). It runs apart from the control plane so that the control
 * plane's CPU and memory can be read on their own, and it applies the changes itself so that a change's
 * start and the sidecars' ACKs are timed on one clock.
 */
import { SHORT, TYPE } from '../../src/xds/type-urls.ts';
import { edsClusterNames, sidecarNode, SIDECAR_ROUTE_NAMES } from './mesh.ts';
import { Sidecar } from './sidecar.ts';
import { RequestCodec, type ResponseHead } from './sidecar-wire.ts';
import type { ChangeResult, ConnectResult, Counters, FleetMessage, FleetReply, FleetRequest } from './fleet-protocol.ts';

type AckWatch = (sidecar: Sidecar, head: ResponseHead, ackedAt: number) => void;

/** Resolves true when `done` settles first, false after `ms`. */
async function within(done: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([done.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

class Fleet {
  readonly #codec = new RequestCodec();
  #sidecars: Sidecar[] = [];
  #counters = new Map<string, { responses: number; bytes: number }>();
  #watch: AckWatch | undefined;

  #onAck = (sidecar: Sidecar, head: ResponseHead, ackedAt: number): void => {
    const type = SHORT[head.typeUrl] ?? head.typeUrl;
    const c = this.#counters.get(type) ?? { responses: 0, bytes: 0 };
    c.responses++;
    c.bytes += head.bytes;
    this.#counters.set(type, c);
    this.#watch?.(sidecar, head, ackedAt);
  };

  async connect(xdsPort: number, proxies: number, services: number, timeoutMs: number): Promise<ConnectResult> {
    const cpu = process.cpuUsage();
    const subscriptions = new Map([
      [TYPE.cluster, this.#codec.subscription(TYPE.cluster, [])],
      [TYPE.listener, this.#codec.subscription(TYPE.listener, [])],
      [TYPE.route, this.#codec.subscription(TYPE.route, SIDECAR_ROUTE_NAMES)],
      [TYPE.endpoint, this.#codec.subscription(TYPE.endpoint, edsClusterNames(services))],
    ]);
    const bytesPerProxy: number[] = [];
    const resources: Record<string, number> = {};
    let end = 0;
    let syncedCount = 0;
    const synced = new Promise<void>((resolve) => {
      this.#watch = (s, head, at) => {
        if (s.index === 0) resources[SHORT[head.typeUrl] ?? head.typeUrl] = head.resources;
        if (bytesPerProxy[s.index] !== undefined || s.acked.size < subscriptions.size) return;
        bytesPerProxy[s.index] = s.bytesReceived;
        end = at;
        if (++syncedCount === proxies) resolve();
      };
    });
    const start = performance.now();
    for (let i = 0; i < proxies; i++) {
      const node = this.#codec.node(sidecarNode(i));
      const sidecar = new Sidecar({ index: i, target: `127.0.0.1:${xdsPort}`, node, subscriptions, codec: this.#codec, onAck: this.#onAck });
      this.#sidecars.push(sidecar);
      sidecar.start();
    }
    await within(synced, timeoutMs);
    this.#watch = undefined;
    return {
      ms: (syncedCount === proxies ? end : performance.now()) - start, synced: syncedCount,
      bytesPerProxy: bytesPerProxy.filter((b) => b !== undefined), resources, errors: this.#errors(), cpuMs: cpuMsSince(cpu),
    };
  }

  async change(httpUrl: string, yaml: string, typeUrl: string, timeoutMs: number): Promise<ChangeResult> {
    const cpu = process.cpuUsage();
    const baseline = this.#sidecars.map((s) => s.acked.get(typeUrl));
    const latenciesMs: number[] = [];
    const bytes: number[] = [];
    const seen = new Set<number>();
    let start = 0;
    const converged = new Promise<void>((resolve) => {
      this.#watch = (s, head, at) => {
        if (head.typeUrl !== typeUrl || seen.has(s.index) || head.versionInfo === baseline[s.index]) return;
        seen.add(s.index);
        latenciesMs.push(at - start);
        bytes.push(head.bytes);
        if (seen.size === this.#sidecars.length) resolve();
      };
    });
    start = performance.now();
    const res = await fetch(`${httpUrl}/apply`, { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
    const applyMs = performance.now() - start;
    if (!res.ok) throw new Error(`POST /apply → ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
    await within(converged, Math.max(0, timeoutMs - applyMs));
    this.#watch = undefined;
    return { applyMs, latenciesMs, bytes, missing: this.#sidecars.length - seen.size, errors: this.#errors(), cpuMs: cpuMsSince(cpu) };
  }

  counters(): Counters {
    const out = Object.fromEntries(this.#counters);
    this.#counters = new Map();
    return out;
  }

  close(): void {
    for (const s of this.#sidecars) s.close();
    this.#sidecars = [];
  }

  /** The first few distinct stream errors. */
  #errors(): string[] {
    const messages = new Set<string>();
    for (const s of this.#sidecars) if (s.error !== undefined && messages.size < 5) messages.add(s.error.message);
    return [...messages];
  }
}

const fleet = new Fleet();

function handle(req: FleetRequest): Promise<unknown> | unknown {
  switch (req.cmd) {
    case 'connect': return fleet.connect(req.xdsPort, req.proxies, req.services, req.timeoutMs);
    case 'change': return fleet.change(req.httpUrl, req.yaml, req.typeUrl, req.timeoutMs);
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
