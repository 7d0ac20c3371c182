/**
 * The `weft` command: one file per subcommand, each exporting `register(program, io, setExit)`.
 * `main` returns the exit code instead of exiting, so tests can run commands in-process.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { processIo, EXIT, type Io } from './io.ts';
import * as validate from './validate.ts';
import * as analyze from './analyze.ts';
import * as apply from './apply.ts';
import * as get from './get.ts';
import * as del from './delete.ts';
import * as control from './control.ts';
import * as proxy from './proxy.ts';
import * as gateway from './gateway.ts';
import * as run from './run.ts';
import * as demo from './demo.ts';

const COMMANDS = [validate, analyze, control, proxy, gateway, run, demo, apply, get, del];

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('weft')
    .description('weft: a light service mesh that speaks Istio\'s configuration API and Envoy\'s xDS')
    .version(version(), '-v, --version', 'print the weft version')
    .showHelpAfterError('(run "weft --help" for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  program.addHelpCommand(true);
  for (const c of COMMANDS) c.register(program, io, (n) => { code = n; });
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 1 && e.code !== 'commander.help' ? EXIT.usage : e.exitCode;
    throw e;
  }
  return code;
}
