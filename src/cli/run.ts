/**
 * `weft run [flags] -- COMMAND [ARGS…]`: a workload in the local mesh, like a pod with its sidecar. The
 * sidecar runs in this process (see `src/run/workload.ts`); the app starts once the sidecar is ready,
 * with `PORT`, `HTTP_PROXY` and its identity in its environment. The exit code is the app's. SIGINT or
 * SIGTERM drains inbound traffic, then stops the app; a second signal stops everything at once.
 */
import type { Command } from 'commander';
import { isLogLevel, type LogLevel } from '../proxy/admin/index.ts';
import { parseBootstrap } from '../proxy/bootstrap.ts';
import { BootstrapError } from '../proxy/xds/index.ts';
import { Workload } from '../run/workload.ts';
import { controlXds } from './control-discovery.ts';
import { collect, EXIT, type Io } from './io.ts';
import { commonOptions, type RunOptions } from './proxy.ts';

interface Options extends RunOptions {
  readonly ip?: string;
  readonly port: string[];
  readonly appPort?: string;
  readonly stopTimeout: string;
}

function number(option: string, value: string, max: number, problems: string[]): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= max)) problems.push(`${option}: must be a number 0-${max} (got ${JSON.stringify(value)})`);
  return n;
}

/** Flags other than the sidecar's bootstrap, checked; problems are appended. */
function checkOptions(opts: Options, problems: string[]) {
  const appPort = opts.appPort === undefined ? undefined : number('--app-port', opts.appPort, 65535, problems);
  if (appPort === 0) problems.push('--app-port: must be a port number 1-65535 (got "0")');
  if (!isLogLevel(opts.logLevel)) problems.push(`--log-level: must be one of trace, debug, info, warning, error, critical, off (got ${JSON.stringify(opts.logLevel)})`);
  return {
    appPort,
    proxyPorts: {
      admin: number('--admin-port', opts.adminPort, 65535, problems),
      health: number('--health-port', opts.healthPort, 65535, problems),
      prometheus: number('--prometheus-port', opts.prometheusPort, 65535, problems),
    },
    drainTimeoutMs: number('--drain-timeout', opts.drainTimeout, 3_600_000, problems),
    stopTimeoutMs: number('--stop-timeout', opts.stopTimeout, 3_600_000, problems),
    logLevel: opts.logLevel as LogLevel,
  };
}

/** First SIGINT/SIGTERM: graceful stop; a second one: stop now. Returns the function removing the handlers. */
function onSignals(workload: Workload): () => void {
  let received = false;
  const handler = (signal: NodeJS.Signals) => {
    if (received) workload.kill();
    else void workload.stop(signal);
    received = true;
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

export async function runWorkload(command: readonly string[], opts: Options, io: Io): Promise<number> {
  const problems: string[] = [];
  const checked = checkOptions(opts, problems);
  const { ip, port, ...rest } = opts;
  const control = controlXds(opts.control);
  const flags = { ...rest, ports: port, ...(ip === undefined ? {} : { ip }), ...(control === undefined ? {} : { control }) };
  try {
    parseBootstrap('sidecar', flags, process.env, '127.0.0.1');
  } catch (e) {
    if (!(e instanceof BootstrapError)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length > 0) {
    for (const p of problems) io.stderr.write(`weft run: ${p}\n`);
    return EXIT.usage;
  }
  let workload: Workload;
  try {
    workload = await Workload.start({
      flags,
      ...(checked.appPort === undefined ? {} : { appPort: checked.appPort }),
      command, proxyPorts: checked.proxyPorts, drainTimeoutMs: checked.drainTimeoutMs, stopTimeoutMs: checked.stopTimeoutMs,
      logLevel: checked.logLevel, stdout: io.stdout, stderr: io.stderr,
    });
  } catch (e) {
    io.stderr.write(`weft run: cannot start the sidecar: ${(e as Error).message}\n`);
    return EXIT.problems;
  }
  const removeHandlers = onSignals(workload);
  try {
    return await workload.done;
  } finally {
    removeHandlers();
  }
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  commonOptions(program
    .command('run')
    .summary('run an app with its sidecar in the local mesh (like a pod): weft run --name NAME --port 9080 -- CMD…')
    .description('Start a sidecar for the workload, wait until it has its config, then run COMMAND with PORT (where to listen), HTTP_PROXY (the sidecar, for calls into the mesh), NODE_USE_ENV_PROXY=1, NO_PROXY (loopback), POD_NAME, POD_NAMESPACE and SERVICE_ACCOUNT. Mesh traffic to --port reaches the app. Exits with the app\'s exit code; SIGINT/SIGTERM drain inbound traffic, then stop the app.')
    .argument('<command...>', 'the app and its arguments (after --)'))
    .option('--ip <addr>', 'the workload\'s address (env WEFT_IP; default a free 127.0.1.x)')
    .option('--port <port[:app-port]>', 'a workload port served by the app (repeatable; Services\' targetPort)', collect, [])
    .option('--app-port <port>', 'where the app listens on 127.0.0.1 (default: a free port, passed as PORT)')
    .option('--stop-timeout <ms>', 'how long the app gets to exit after SIGTERM before SIGKILL', '5000')
    .action(async (command: string[], opts: Options) => {
      setExit(await runWorkload(command, opts, io));
    });
}
