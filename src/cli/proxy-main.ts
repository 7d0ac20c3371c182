/**
 * The entry `bin/weft.js` uses for `weft proxy` and `weft gateway`: the same commands as in `main.ts`,
 * on a program that registers only them, so a sidecar process loads the proxy's modules and commander,
 * not the config API, analysis or control plane (tens of MB of RSS in every sidecar).
 */
import { Command, CommanderError } from 'commander';
import { processIo, EXIT, type Io } from './io.ts';
import * as proxy from './proxy.ts';
import * as gateway from './gateway.ts';

export async function proxyMain(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('weft')
    .showHelpAfterError('(run "weft --help" for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  for (const c of [proxy, gateway]) c.register(program, io, (n) => { code = n; });
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 1 && e.code !== 'commander.help' ? EXIT.usage : e.exitCode;
    throw e;
  }
  return code;
}
