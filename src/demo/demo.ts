/**
 * `weft demo`: the whole local mesh in one process tree. This process runs the control plane (state in
 * a fresh temporary directory), the ingress gateway and the six bookinfo sidecars; each bookinfo app is
 * a child process started by its workload supervisor (`src/run/workload.ts`, what `weft run` does),
 * after its sidecar is ready. Sidecars in-process rather than one `weft run` process each: one Node
 * runtime and one copy of the code instead of seven, which is what keeps start-up and memory small
 * (README: figures).
 *
 * Start: control plane → starting config (Services, bookinfo-gateway, destination-rule-all) →
 * gateway and workloads together → the first complete product page through the gateway, whose time
 * from process start is the start-up time printed. Stop: traffic, then gateway and workloads (each
 * drains inbound, then stops its app), then the control plane; the state directory is removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane, type Address } from '../control/control-plane.ts';
import type { LogLevel } from '../proxy/admin/index.ts';
import { loadBootstrap } from '../proxy/bootstrap.ts';
import { Proxy } from '../proxy/proxy.ts';
import { canBind, LoopbackAddresses } from '../run/addresses.ts';
import { prefixedWriter, type LineSink } from '../run/line-prefix.ts';
import { Workload } from '../run/workload.ts';
import { BOOKINFO_PORT, SAMPLES_DIR, WORKLOADS, type DemoWorkload } from './bookinfo.ts';
import { buildApps } from './app-build.ts';
import { demoConfig } from './mesh-config.ts';
import { Prefixes } from './prefixes.ts';
import { Traffic } from './traffic.ts';

export interface DemoOptions {
  readonly xds: Address;
  readonly http: Address;
  /** Where the ingress gateway listens (its Gateway server port) and has its admin ports. */
  readonly gatewayAddress: string;
  readonly gatewayPort: number;
  /** Requests per second of background traffic (0: none). */
  readonly traffic: number;
  readonly logLevel: LogLevel;
  readonly stdout: LineSink;
  readonly stderr: LineSink;
  /** Colour the line prefixes (a terminal). */
  readonly color: boolean;
  /** How long the first complete page may take (default 60 s). */
  readonly startTimeoutMs?: number;
}

/** The gateway's identity, as Istio's default ingress gateway deployment has it. */
const GATEWAY = { name: 'istio-ingressgateway', namespace: 'istio-system', serviceAccount: 'istio-ingressgateway-service-account', labels: 'app=istio-ingressgateway,istio=ingressgateway' };

/** The environment the sidecars and apps start from: the user's, without settings meant for one proxy. */
function demoEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(WEFT_|ISTIO_META_|POD_|INSTANCE_IP$|SERVICE_ACCOUNT$|PORT$)/.test(k)) env[k] = v;
  return env;
}

export class Demo {
  readonly control: ControlPlane;
  readonly gateway: Proxy;
  readonly workloads: readonly Workload[];
  /** The demo's temporary directory: the control plane's state (`state/`) and the apps' JavaScript (`apps/`). */
  readonly dir: string;
  /** The product page through the gateway. */
  readonly productPageUrl: string;
  /** Milliseconds from process start to the first complete product page through the gateway. */
  startupMs = 0;
  #traffic: Traffic | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(parts: { control: ControlPlane; gateway: Proxy; workloads: Workload[]; dir: string; productPageUrl: string }) {
    this.control = parts.control;
    this.gateway = parts.gateway;
    this.workloads = parts.workloads;
    this.dir = parts.dir;
    this.productPageUrl = parts.productPageUrl;
  }

  /** Starts everything and resolves once the product page is served through the gateway. */
  static async start(o: DemoOptions): Promise<Demo> {
    const prefixes = new Prefixes(o.color);
    const dir = await mkdtemp(join(tmpdir(), 'weft-demo-'));
    const mesh: Mesh = { workloads: [] };
    try {
      await checkPorts(o);
      const apps = await appsDir(join(dir, 'apps'), prefixedWriter(prefixes.of('demo'), o.stderr));
      const control = await ControlPlane.start({ stateDir: join(dir, 'state'), xds: o.xds, http: o.http, log: prefixedWriter(prefixes.of('control'), o.stderr) });
      mesh.control = control;
      await control.store.apply(await demoConfig(o.gatewayPort));
      await startMesh({ o, xds: `${o.xds.host}:${control.xdsPort}`, prefixes, env: demoEnv(), addresses: new LoopbackAddresses(), apps }, mesh);
      const host = o.gatewayAddress.includes(':') ? `[${o.gatewayAddress}]` : o.gatewayAddress;
      const demo = new Demo({ control, gateway: mesh.gateway!, workloads: mesh.workloads, dir, productPageUrl: `http://${host}:${o.gatewayPort}/productpage` });
      demo.startupMs = await Promise.race([firstCompletePage(demo.productPageUrl, o.startTimeoutMs ?? 60_000), anyStopped(mesh.workloads)]);
      demo.#watch(o.stderr, prefixes);
      if (o.traffic > 0) {
        demo.#traffic = new Traffic(demo.productPageUrl, o.traffic, prefixedWriter(prefixes.of('traffic'), o.stdout));
        demo.#traffic.start();
      }
      return demo;
    } catch (e) {
      await Promise.allSettled([...mesh.workloads.map((w) => w.stop()), mesh.gateway?.stop()]);
      await mesh.control?.stop();
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Stops everything (gracefully: connections drain, apps get SIGTERM). Safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** Stops everything now (a second Ctrl-C). */
  kill(): void {
    for (const w of this.workloads) w.kill();
    void this.gateway.stop(false);
  }

  async #stop(): Promise<void> {
    this.#traffic?.stop();
    await Promise.all([...this.workloads.map((w) => w.stop('SIGTERM')), this.gateway.stop()]);
    await this.control.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Says so when a workload stops while the demo runs (its app exited). */
  #watch(stderr: LineSink, prefixes: Prefixes): void {
    const say = prefixedWriter(prefixes.of('demo'), stderr);
    for (const w of this.workloads) {
      void w.done.then((code) => {
        if (this.#stopping === undefined) say(`${w.bootstrap.name} stopped (exit code ${code}); the rest of the mesh keeps running`);
      });
    }
  }
}

async function startGateway(c: StartContext): Promise<Proxy> {
  const bootstrap = await loadBootstrap('router', { ...GATEWAY, control: c.xds, bind: c.o.gatewayAddress }, c.env);
  return Proxy.start({ bootstrap, logLevel: c.o.logLevel, logSink: prefixedWriter(c.prefixes.of(GATEWAY.name), c.o.stderr) });
}

/** What has started so far (for the clean-up when start-up fails). */
interface Mesh {
  control?: ControlPlane;
  gateway?: Proxy;
  readonly workloads: Workload[];
}

/** Starts the gateway and the workloads together into `mesh`; throws the first failure once all have settled. */
async function startMesh(c: StartContext, mesh: Mesh): Promise<void> {
  const [gw, ...rest] = await Promise.allSettled([startGateway(c), ...WORKLOADS.map((w) => startWorkload(w, c))]);
  if (gw?.status === 'fulfilled') mesh.gateway = gw.value;
  for (const r of rest) if (r.status === 'fulfilled') mesh.workloads.push(r.value);
  const failed = [gw, ...rest].find((r) => r?.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}

interface StartContext {
  readonly o: DemoOptions;
  readonly xds: string;
  readonly prefixes: Prefixes;
  readonly env: NodeJS.ProcessEnv;
  readonly addresses: LoopbackAddresses;
  /** Where the apps' programs are: JavaScript copies, or the sources. */
  readonly apps: { readonly dir: string; readonly ext: '.js' | '.ts' };
}

function startWorkload(w: DemoWorkload, c: StartContext): Promise<Workload> {
  return Workload.start({
    flags: { control: c.xds, name: w.name, namespace: 'default', serviceAccount: w.serviceAccount, labels: `app=${w.app},version=${w.version}`, ports: [String(BOOKINFO_PORT)] },
    command: [process.execPath, join(c.apps.dir, w.script.replace(/\.ts$/, c.apps.ext))],
    env: c.env,
    appEnv: w.env,
    addresses: c.addresses,
    logLevel: c.o.logLevel,
    drainTimeoutMs: 2_000,
    prefix: { app: c.prefixes.of(w.name), proxy: c.prefixes.of(`${w.name}/proxy`) },
    stdout: c.o.stdout,
    stderr: c.o.stderr,
    stdin: 'ignore',
  });
}

/** The apps' JavaScript copies in `dir` (see app-build.ts); the TypeScript sources if they cannot be built. */
async function appsDir(dir: string, warn: (line: string) => void): Promise<StartContext['apps']> {
  try {
    await buildApps(SAMPLES_DIR, dir);
    return { dir, ext: '.js' };
  } catch (e) {
    warn(`running the apps from their TypeScript sources (cannot strip their types: ${(e as Error).message})`);
    return { dir: SAMPLES_DIR, ext: '.ts' };
  }
}

/** Rejects when a workload stops (its app exited) before the demo is up. */
function anyStopped(workloads: readonly Workload[]): Promise<never> {
  return Promise.race(workloads.map((w) => w.done.then((code) => {
    throw new Error(`${w.bootstrap.name} stopped (exit code ${code}) before the product page was up; see its lines above`);
  })));
}

/** Fails early, naming the flag to change, when a port the demo needs is taken (e.g. by another demo). */
async function checkPorts(o: DemoOptions): Promise<void> {
  const taken: string[] = [];
  const gatewayPorts = [[o.gatewayPort, '--gateway-port'], [15000, 'admin'], [15021, 'health'], [15090, 'Prometheus']] as const;
  for (const [port, what] of gatewayPorts) if (!(await canBind(o.gatewayAddress, port))) taken.push(`${o.gatewayAddress}:${port} (gateway ${what})`);
  for (const [a, flag] of [[o.xds, '--xds'], [o.http, '--http']] as const) if (a.port !== 0 && !(await canBind(a.host, a.port))) taken.push(`${a.host}:${a.port} (${flag})`);
  if (taken.length > 0) throw new Error(`in use: ${taken.join(', ')}. Is another weft demo or weft control running? Choose other ports with --gateway-port, --gateway-address, --xds, --http.`);
}

/** Polls the product page until it shows book details and reviews; resolves with the time since process start. */
async function firstCompletePage(url: string, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    const page = await getPage(url);
    if (page.status === 200 && page.body.includes('Book Details') && page.body.includes('Book Reviews')) return performance.now();
    last = page.status === 0 ? page.body : `HTTP ${page.status}`;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the product page was not served through the gateway within ${timeoutMs / 1000} s (last: ${last}) at ${url}`);
}

function getPage(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ status: 0, body: e.message }));
    }).on('error', (e) => resolve({ status: 0, body: e.message }));
  });
}
