/**
 * The `weft` command: one file per subcommand, each exporting `register(program, io, setExit)`.
 * `main` returns the exit code instead of exiting, so tests can run commands in-process.
 */
import { readFileSync } from 'node:fs';
import { processIo, type Io } from './io.ts';
import { runProgram, weftProgram } from './program.ts';
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
  const program = weftProgram(io)
    .description('weft: a light service mesh that speaks Istio\'s configuration API and Envoy\'s xDS')
    .version(version(), '-v, --version', 'print the weft version');
  program.addHelpCommand(true);
  return runProgram(program, COMMANDS, argv, io);
}
