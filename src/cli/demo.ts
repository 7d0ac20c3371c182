/**
 * `weft demo` (and `npm start`): the local mesh in one command — control plane, Istio's bookinfo
 * (productpage, details, reviews v1/v2/v3, ratings) each with its sidecar, and the ingress gateway on
 * http://localhost:8080 — ready for Istio's traffic-management tasks. Ctrl-C stops everything; a
 * second Ctrl-C stops it at once. See `src/demo/demo.ts`.
 */
import type { Command } from 'commander';
import { isIP } from 'node:net';
import type { Address } from '../control/control-plane.ts';
import { isLogLevel, type LogLevel } from '../proxy/admin/index.ts';
import { banner } from '../demo/banner.ts';
import { Demo, type DemoOptions } from '../demo/demo.ts';
import { parseAddress } from './control.ts';
import { EXIT, type Io } from './io.ts';

interface Options {
  readonly xds: string;
  readonly http: string;
  readonly gatewayAddress: string;
  readonly gatewayPort: string;
  readonly traffic?: string | true;
  readonly logLevel: string;
}

/** The options once checked: what `Demo.start` takes besides its output sinks. */
type Checked = Omit<DemoOptions, 'stdout' | 'stderr' | 'color'>;

function check(opts: Options, problems: string[]): Checked {
  const xds = parseAddress('--xds', opts.xds);
  const http = parseAddress('--http', opts.http);
  for (const a of [xds, http]) if (typeof a === 'string') problems.push(a);
  const gatewayPort = /^\d{1,5}$/.test(opts.gatewayPort) ? Number(opts.gatewayPort) : NaN;
  if (!(gatewayPort >= 1 && gatewayPort <= 65535)) problems.push(`--gateway-port must be a port number 1-65535 (got ${JSON.stringify(opts.gatewayPort)})`);
  if (isIP(opts.gatewayAddress) === 0) problems.push(`--gateway-address must be an IP address (got ${JSON.stringify(opts.gatewayAddress)})`);
  const traffic = opts.traffic === undefined ? 0 : opts.traffic === true ? 2 : Number(opts.traffic);
  if (!(traffic >= 0 && traffic <= 1000)) problems.push(`--traffic must be requests per second, 0-1000 (got ${JSON.stringify(opts.traffic)})`);
  if (!isLogLevel(opts.logLevel)) problems.push(`--log-level must be one of trace, debug, info, warning, error, critical, off (got ${JSON.stringify(opts.logLevel)})`);
  return { xds: xds as Address, http: http as Address, gatewayAddress: opts.gatewayAddress, gatewayPort, traffic, logLevel: opts.logLevel as LogLevel };
}

/** Resolves with the first SIGINT/SIGTERM; a second one calls `again`. */
function signals(again: () => void): { received: Promise<string>; remove: () => void } {
  let count = 0;
  let resolve!: (signal: string) => void;
  const received = new Promise<string>((r) => (resolve = r));
  const handler = (signal: string) => {
    if (count++ === 0) resolve(signal);
    else again();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { received, remove: () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); } };
}

export async function runDemo(opts: Options, io: Io): Promise<number> {
  const problems: string[] = [];
  const o = check(opts, problems);
  if (problems.length > 0) {
    for (const p of problems) io.stderr.write(`weft demo: ${p}\n`);
    return EXIT.usage;
  }
  let demo: Demo | undefined;
  const sig = signals(() => demo?.kill());
  try {
    io.stdout.write('weft demo: starting the control plane, the ingress gateway and bookinfo (6 workloads, each with its sidecar)…\n');
    const starting = Demo.start({ ...o, stdout: io.stdout, stderr: io.stderr, color: (io.stdout as { isTTY?: boolean }).isTTY === true });
    const first = await Promise.race([starting, sig.received]);
    if (typeof first === 'string') {
      io.stdout.write(`weft demo: ${first} while starting; stopping\n`);
      await (await starting.catch(() => undefined))?.stop();
      return EXIT.ok;
    }
    demo = first;
    io.stdout.write(banner(demo, { ...o, xdsHost: o.xds.host }));
    const signal = await sig.received;
    io.stdout.write(`weft demo: ${signal}, stopping (Ctrl-C again to stop at once)\n`);
    await demo.stop();
    io.stdout.write('weft demo: stopped\n');
    return EXIT.ok;
  } catch (e) {
    io.stderr.write(`weft demo: cannot start: ${(e as Error).message}\n`);
    return EXIT.problems;
  } finally {
    sig.remove();
  }
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('demo')
    .summary('run the local demo mesh: bookinfo behind the ingress gateway on http://localhost:8080 (npm start)')
    .description('Start the control plane (fresh state), Istio\'s bookinfo re-implemented in TypeScript (productpage, details, reviews v1/v2/v3, ratings), each workload with its sidecar and Istio\'s labels and service accounts, and the ingress gateway (istio=ingressgateway) on http://localhost:8080 with bookinfo-gateway.yaml and destination-rule-all.yaml applied. Then follow Istio\'s traffic-management tasks with weft apply. Ctrl-C stops everything.')
    .option('--xds <host:port>', 'the control plane\'s xDS address', '127.0.0.1:15010')
    .option('--http <host:port>', 'the control plane\'s HTTP API (weft apply/get talk to it)', '127.0.0.1:15014')
    .option('--gateway-address <addr>', 'where the ingress gateway listens (and its admin on 15000)', '127.0.0.1')
    .option('--gateway-port <port>', 'the ingress gateway\'s HTTP port (the Gateway server\'s port)', '8080')
    .option('--traffic [rps]', 'send a steady light load to the product page (default 2 requests per second)')
    .option('--log-level <level>', 'the proxies\' log level', 'warning')
    .action(async (opts: Options) => {
      setExit(await runDemo(opts, io));
    });
}
