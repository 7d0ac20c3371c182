/**
 * One local-mode workload, supervised: a sidecar proxy (in this process) and its app (a child
 * process). This is `weft run`, and `weft demo` runs several of them in one process.
 *
 * Life of a workload:
 *   start: pick the app port and the sidecar's loopback address, start the proxy (it registers with the
 *          control plane through its xDS node) → wait until it is ready (config received) → start the
 *          app with `PORT`, `HTTP_PROXY` and its identity in the environment.
 *   the app exits by itself: the proxy drains and stops; the workload's exit code is the app's.
 *   `stop()` (SIGINT/SIGTERM, `/quitquitquit`): inbound listeners stop taking connections and in-flight
 *          requests get the drain time (outbound stays up, so the app can finish them), then the app is
 *          stopped (SIGTERM, SIGKILL after the stop timeout), then the proxy.
 */
import type { LogLevel } from '../proxy/admin/index.ts';
import { parseBootstrap, type Bootstrap, type ProxyFlags } from '../proxy/bootstrap.ts';
import { Proxy, type ProxyPorts } from '../proxy/proxy.ts';
import { freePort, LoopbackAddresses, OUTBOUND_PORT, SIDECAR_PORTS } from './addresses.ts';
import { appEnvironment } from './app-env.ts';
import { AppProcess, exitCodeOf, type AppExit } from './app-process.ts';
import { prefixedWriter, type LineSink } from './line-prefix.ts';

export interface WorkloadOptions {
  /** The sidecar's identity and control plane, as `weft proxy` takes them; `ports` are `PORT` or `PORT:APP_PORT`. */
  readonly flags: ProxyFlags;
  /** The app's fixed port for workload ports given without one (default: a free port, passed as `PORT`). */
  readonly appPort?: number;
  /** The app: command and arguments. */
  readonly command: readonly string[];
  readonly cwd?: string;
  /** The environment the app's is built from (default `process.env`); also read for the sidecar's settings. */
  readonly env?: NodeJS.ProcessEnv;
  /** Set in the app's environment after everything else (e.g. a version switch). */
  readonly appEnv?: Readonly<Record<string, string>>;
  /** Where sidecar addresses come from (shared by the workloads of one process). */
  readonly addresses?: LoopbackAddresses;
  readonly proxyPorts?: ProxyPorts;
  readonly drainTimeoutMs?: number;
  /** How long the app gets between SIGTERM and SIGKILL (default 5,000 ms). */
  readonly stopTimeoutMs?: number;
  readonly logLevel?: LogLevel;
  /** Prefixes for the app's lines and for the sidecar's and supervisor's (default `[name] `, `[name/proxy] `). */
  readonly prefix?: { readonly app: string; readonly proxy: string };
  readonly stdout: LineSink;
  readonly stderr: LineSink;
  /** The app's stdin (default: weft's, unless that is a terminal). */
  readonly stdin?: 'inherit' | 'ignore';
  /** How long to wait for readiness before saying what is missing (default 3,000 ms). */
  readonly waitHintMs?: number;
}

type Stop = { readonly signal: NodeJS.Signals | undefined };

const DEFAULT_STOP_TIMEOUT_MS = 5_000;
const ADDRESS_ATTEMPTS = 5;

function addressInUse(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

export class Workload {
  readonly proxy: Proxy;
  readonly bootstrap: Bootstrap;
  /** Where the app listens on 127.0.0.1 (undefined: it serves no workload port). */
  readonly appPort: number | undefined;
  /** Resolves with the workload's exit code once the app and the proxy have stopped. */
  readonly done: Promise<number>;
  readonly #options: WorkloadOptions;
  readonly #log: (line: string) => void;
  #app: AppProcess | undefined;
  #resolveStop!: (stop: Stop) => void;
  readonly #stopRequested = new Promise<Stop>((resolve) => (this.#resolveStop = resolve));

  private constructor(options: WorkloadOptions, proxy: Proxy, appPort: number | undefined, log: (line: string) => void) {
    this.#options = options;
    this.proxy = proxy;
    this.bootstrap = proxy.bootstrap;
    this.appPort = appPort;
    this.#log = log;
    this.done = this.#run();
  }

  /**
   * Validates the options (throws `BootstrapError` listing every problem), starts the sidecar and
   * resolves; the app starts once the sidecar is ready (`app`), and `done` gives the exit code.
   */
  static async start(options: WorkloadOptions): Promise<Workload> {
    const env = options.env ?? process.env;
    // Parse once with a placeholder address so bad flags are reported before anything is bound.
    const checked = parseBootstrap('sidecar', options.flags, env, '127.0.0.1');
    const unmapped = (options.flags.ports ?? []).some((p) => !p.includes(':'));
    const appPort = options.appPort ?? (unmapped ? await freePort() : undefined);
    const ports = (options.flags.ports ?? []).map((p) => (p.includes(':') || appPort === undefined ? p : `${p}:${appPort}`));
    const prefix = options.prefix ?? { app: `[${checked.name}] `, proxy: `[${checked.name}/proxy] ` };
    const log = prefixedWriter(prefix.proxy, options.stderr);
    const proxy = await startProxy(options, env, ports, checked, log);
    log(`weft run: sidecar ${proxy.bootstrap.node.id}, control ${proxy.bootstrap.control}, admin ${proxy.urls.admin}${appPort === undefined ? '' : `, app port ${appPort}`}`);
    return new Workload({ ...options, prefix }, proxy, appPort, log);
  }

  /** The app's process, once started. */
  get app(): AppProcess | undefined {
    return this.#app;
  }

  /**
   * Stops the workload: drain inbound, stop the app, stop the proxy. `signal` is what asked (for the exit
   * code when the app had not started). Resolves with the exit code (as `done`).
   */
  stop(signal?: NodeJS.Signals): Promise<number> {
    this.#resolveStop({ signal });
    return this.done;
  }

  /** Stops everything now: SIGKILL to the app, the proxy without draining (a second Ctrl-C). */
  kill(): void {
    this.#app?.signal('SIGKILL');
    void this.proxy.stop(false);
    this.#resolveStop({ signal: 'SIGKILL' });
  }

  async #run(): Promise<number> {
    const ready = await this.#waitReady();
    if (ready !== true) {
      await this.proxy.stop();
      return ready.signal === undefined ? 0 : exitCodeOf({ code: null, signal: ready.signal });
    }
    const app = this.#spawnApp();
    this.#app = app;
    const first = await Promise.race([app.exited, this.#stopRequested, this.proxy.stopped.then((): Stop => ({ signal: undefined }))]);
    let exit: AppExit;
    if ('code' in first) {
      exit = first;
      this.#log(`weft run: app exited with ${describeExit(exit)}; stopping the sidecar`);
    } else {
      exit = await this.#stopApp(app);
    }
    await this.proxy.stop();
    this.#log('weft run: stopped');
    return exitCodeOf(exit);
  }

  /** Resolves true once the sidecar is ready, or with what stopped it first. */
  async #waitReady(): Promise<true | Stop> {
    const hintMs = this.#options.waitHintMs ?? 3_000;
    const hint = setTimeout(() => {
      const waiting = this.proxy.xds.readiness().waitingFor.join(', ') || 'listeners';
      this.#log(`weft run: waiting for the sidecar to be ready (${waiting}); is the control plane running at ${this.bootstrap.control}? (weft control, or --control / WEFT_CONTROL)`);
    }, hintMs);
    try {
      return await Promise.race([
        this.proxy.whenReady().then(() => true as const),
        this.#stopRequested,
        this.proxy.stopped.then((): Stop => ({ signal: undefined })),
      ]);
    } finally {
      clearTimeout(hint);
    }
  }

  #spawnApp(): AppProcess {
    const o = this.#options;
    const [command, ...args] = o.command;
    const env = appEnvironment(o.env ?? process.env, {
      name: this.bootstrap.name,
      namespace: this.bootstrap.namespace,
      serviceAccount: this.bootstrap.serviceAccount,
      ip: this.bootstrap.ip,
      outboundPort: OUTBOUND_PORT,
      ...(this.appPort === undefined ? {} : { appPort: this.appPort }),
    });
    Object.assign(env, o.appEnv);
    this.#log(`weft run: sidecar ready; starting ${o.command.join(' ')}`);
    return AppProcess.spawn({
      command: command!, args, env, prefix: o.prefix!.app, stdout: o.stdout, stderr: o.stderr,
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
      ...(o.stdin === undefined ? {} : { stdin: o.stdin }),
    });
  }

  async #stopApp(app: AppProcess): Promise<AppExit> {
    this.#log('weft run: draining inbound connections');
    await this.proxy.listeners.drainListeners({ inboundOnly: true });
    this.#log('weft run: stopping the app');
    const exit = await app.terminate(this.#options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    this.#log(`weft run: app exited with ${describeExit(exit)}`);
    return exit;
  }
}

function describeExit(exit: AppExit): string {
  return exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal ?? 'unknown'}`;
}

/** Starts the sidecar on the given address, or on a free loopback address (the next one when another process took it first). */
async function startProxy(options: WorkloadOptions, env: NodeJS.ProcessEnv, ports: readonly string[], checked: Bootstrap, log: (line: string) => void): Promise<Proxy> {
  const fixed = options.flags.ip ?? env.WEFT_IP ?? env.INSTANCE_IP;
  const addresses = options.addresses ?? new LoopbackAddresses();
  const needed = [...SIDECAR_PORTS, ...checked.ports.map((p) => p.port)];
  for (let attempt = 1; ; attempt++) {
    const ip = fixed !== undefined && fixed !== '' ? fixed : await addresses.take(needed);
    const bootstrap = parseBootstrap('sidecar', { ...options.flags, ip, ports }, env);
    try {
      return await Proxy.start({
        bootstrap,
        ...(options.proxyPorts === undefined ? {} : { ports: options.proxyPorts }),
        ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
        logLevel: options.logLevel ?? 'info',
        logSink: log,
      });
    } catch (e) {
      if (fixed !== undefined && fixed !== '') throw e;
      addresses.release(ip);
      if (!addressInUse(e) || attempt >= ADDRESS_ATTEMPTS) throw e;
    }
  }
}
