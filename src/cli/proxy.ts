/**
 * `weft proxy`: runs a sidecar proxy (weft's Envoy) for one workload until SIGINT/SIGTERM or
 * `/quitquitquit`, then drains and exits. Identity and ports come from flags and environment
 * (`src/proxy/bootstrap.ts`); listeners bind on the workload's address, admin on 15000, health on
 * 15021, Prometheus on 15090. `runProxy` is shared with `weft gateway`.
 */
import type { Command } from 'commander';
import { loadBootstrap, type ProxyFlags, type ProxyKind } from '../proxy/bootstrap.ts';
import { isLogLevel, type LogLevel } from '../proxy/admin/index.ts';
import { Proxy } from '../proxy/proxy.ts';
import { BootstrapError } from '../proxy/xds/index.ts';
import { collect, EXIT, type Io } from './io.ts';
import { controlXds } from './control-discovery.ts';

export interface RunOptions extends ProxyFlags {
  readonly adminPort: string;
  readonly healthPort: string;
  readonly prometheusPort: string;
  readonly drainTimeout: string;
  readonly logLevel: string;
}

function waitForSignal(): { promise: Promise<string>; cancel: () => void } {
  let cancel = () => {};
  const promise = new Promise<string>((resolve) => {
    const done = (sig: string) => {
      cancel();
      resolve(sig);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    cancel = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
  });
  return { promise, cancel };
}

function portOption(option: string, value: string, problems: string[]): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) problems.push(`${option}: must be a port number 0-65535 (got ${JSON.stringify(value)})`);
  return n;
}

/** Adds the options both proxy commands share. */
export function commonOptions(cmd: Command): Command {
  return cmd
    .option('--control <host:port>', 'the control plane\'s xDS address (env WEFT_CONTROL)')
    .option('--name <name>', 'workload name (env WEFT_NAME)')
    .option('--namespace <ns>', 'namespace (env WEFT_NAMESPACE)')
    .option('--service-account <sa>', 'service account (env WEFT_SERVICE_ACCOUNT)')
    .option('--labels <k=v,...>', 'workload labels (env WEFT_LABELS)')
    .option('--locality <region/zone/subzone>', 'locality (env WEFT_LOCALITY)')
    .option('--initial-fetch-timeout <ms>', 'how long a wanted route or endpoint set may take at startup')
    .option('--admin-port <port>', 'admin endpoint port', '15000')
    .option('--health-port <port>', 'health endpoint port (/healthz/ready)', '15021')
    .option('--prometheus-port <port>', 'Prometheus endpoint port (/stats/prometheus)', '15090')
    .option('--drain-timeout <ms>', 'how long open connections get when draining', '5000')
    .option('--log-level <level>', 'trace, debug, info, warning, error, critical, off', 'info');
}

/** Runs a proxy of `kind` until a signal or `/quitquitquit`; returns the exit code. */
export async function runProxy(kind: ProxyKind, opts: RunOptions, io: Io): Promise<number> {
  const command = kind === 'router' ? 'weft gateway' : 'weft proxy';
  const problems: string[] = [];
  const ports = { admin: portOption('--admin-port', opts.adminPort, problems), health: portOption('--health-port', opts.healthPort, problems), prometheus: portOption('--prometheus-port', opts.prometheusPort, problems) };
  const drainTimeoutMs = Number(opts.drainTimeout);
  if (!/^\d+$/.test(opts.drainTimeout)) problems.push(`--drain-timeout: must be milliseconds (got ${JSON.stringify(opts.drainTimeout)})`);
  if (!isLogLevel(opts.logLevel)) problems.push(`--log-level: must be one of trace, debug, info, warning, error, critical, off (got ${JSON.stringify(opts.logLevel)})`);
  let bootstrap;
  try {
    const control = controlXds(opts.control);
    bootstrap = await loadBootstrap(kind, control === undefined ? opts : { ...opts, control });
  } catch (e) {
    if (!(e instanceof BootstrapError)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length > 0 || bootstrap === undefined) {
    for (const p of problems) io.stderr.write(`${command}: ${p}\n`);
    return EXIT.usage;
  }
  let proxy: Proxy;
  try {
    proxy = await Proxy.start({ bootstrap, ports, drainTimeoutMs, logLevel: opts.logLevel as LogLevel, logSink: (line) => io.stderr.write(`${line}\n`) });
  } catch (e) {
    io.stderr.write(`${command}: cannot start: ${(e as Error).message}\n`);
    return EXIT.problems;
  }
  const u = proxy.urls;
  io.stderr.write(`${command}: ${bootstrap.node.id} on ${bootstrap.ip}, control ${bootstrap.control}, admin ${u.admin}, health ${u.health}, prometheus ${u.prometheus}\n`);
  void proxy.whenReady().then(() => io.stderr.write(`${command}: ready\n`));
  const signal = waitForSignal();
  const why = await Promise.race([signal.promise, proxy.stopped.then(() => 'quitquitquit')]);
  signal.cancel();
  io.stderr.write(`${command}: ${why}, draining\n`);
  await proxy.stop();
  io.stderr.write(`${command}: stopped\n`);
  return EXIT.ok;
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  commonOptions(program
    .command('proxy')
    .summary('run a sidecar proxy for one workload (weft\'s Envoy, configured over xDS)')
    .description('Run a sidecar proxy: connects to the control plane over ADS, binds the listeners it is given on the workload\'s address (outbound 15001 as an HTTP proxy, inbound per --port), admin on 15000, health on 15021, Prometheus on 15090. Drains and exits on SIGINT/SIGTERM or POST /quitquitquit.'))
    .option('--ip <addr>', 'the workload\'s address (env WEFT_IP; default a free 127.0.1.x)')
    .option('--port <port[:app-port]>', 'a workload port and where the app listens on 127.0.0.1 (repeatable)', collect, [])
    .action(async (opts: RunOptions & { port: string[] }) => {
      setExit(await runProxy('sidecar', { ...opts, ports: opts.port }, io));
    });
}
