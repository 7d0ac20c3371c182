/**
 * `weft control`: runs the control plane (weft's istiod) until SIGINT/SIGTERM. Config comes from
 * watched directories (`--config`, hot reload) and `weft apply`; applied config persists under `--state`.
 */
import type { Command } from 'commander';
import { ControlPlane, type Address } from '../control/control-plane.ts';
import { removeControlAddresses, writeControlAddresses } from './control-discovery.ts';
import { collect, EXIT, type Io } from './io.ts';

interface Options {
  config: string[];
  state: string;
  xds: string;
  http: string;
  debounce: string;
}

/** `HOST:PORT` (IPv6 as `[::1]:15010`) → address, or an error message naming the option. */
export function parseAddress(option: string, value: string): Address | string {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (m === null || port > 65535) return `${option} must be HOST:PORT, e.g. 127.0.0.1:15010 (got ${JSON.stringify(value)})`;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (sig: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(sig);
    };
    const onInt = () => done('SIGINT');
    const onTerm = () => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('control')
    .summary('run the control plane: Istio config + registry → xDS over gRPC ADS')
    .description('Run weft\'s control plane (istiod). Serves xDS (ADS, state of the world and delta) on --xds, the HTTP API (apply/get/delete, /debug/*, /metrics, /ready) on --http.')
    .option('-c, --config <dir>', 'directory of Istio config to load and watch (repeatable)', collect, [])
    .option('--state <dir>', 'where applied config is kept across restarts', '.weft')
    .option('--xds <host:port>', 'xDS gRPC address', '127.0.0.1:15010')
    .option('--http <host:port>', 'HTTP API address', '127.0.0.1:15014')
    .option('--debounce <ms>', 'quiet period that merges a burst of changes into one push (a change after a quiet time goes out at once)', '100')
    .action(async (opts: Options) => {
      const xds = parseAddress('--xds', opts.xds);
      const http = parseAddress('--http', opts.http);
      const debounceMs = Number(opts.debounce);
      for (const a of [xds, http]) {
        if (typeof a === 'string') {
          io.stderr.write(`weft control: ${a}\n`);
          setExit(EXIT.usage);
          return;
        }
      }
      if (!Number.isFinite(debounceMs) || debounceMs < 0) {
        io.stderr.write(`weft control: --debounce must be a number of milliseconds ≥ 0 (got ${JSON.stringify(opts.debounce)})\n`);
        setExit(EXIT.usage);
        return;
      }
      let cp: ControlPlane;
      try {
        cp = await ControlPlane.start({
          configDirs: opts.config, stateDir: opts.state, xds: xds as Address, http: http as Address, debounceMs,
          log: (line) => io.stderr.write(`${line}\n`),
        });
      } catch (e) {
        io.stderr.write(`weft control: ${(e as Error).message}\n`);
        setExit(EXIT.problems);
        return;
      }
      // Lets `weft proxy`, `weft run` and `weft apply` started from this directory find this control plane.
      const host = (xds as Address).host;
      await writeControlAddresses(opts.state, { xds: `${host}:${cp.xdsPort}`, http: `${(http as Address).host}:${cp.http.port}`, pid: process.pid })
        .catch((e: Error) => io.stderr.write(`weft control: cannot record its addresses in ${opts.state}: ${e.message}\n`));
      const sig = await waitForSignal();
      io.stderr.write(`weft control: ${sig}, stopping\n`);
      await removeControlAddresses(opts.state).catch(() => undefined);
      await cp.stop();
    });
}
