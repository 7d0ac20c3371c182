/**
 * Runs a commander program for weft's entries (`main.ts`, and the lean `proxy-main.ts` of sidecars):
 * output to the given io, commands registered with an exit-code setter, and commander's own exits
 * (help, version, usage errors) mapped to weft's exit codes. Imports commander only, so the lean entry
 * stays lean.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, type Io } from './io.ts';

export interface Registrable {
  register(program: Command, io: Io, setCode: (code: number) => void): void;
}

/** A program named `weft` writing to `io`, with commander's exits turned into exceptions. */
export function weftProgram(io: Io): Command {
  return new Command('weft')
    .showHelpAfterError('(run "weft --help" for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
}

/** Registers `commands` on `program`, parses `argv` and resolves with the exit code. */
export async function runProgram(program: Command, commands: readonly Registrable[], argv: readonly string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  for (const c of commands) c.register(program, io, (n) => { code = n; });
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 1 && e.code !== 'commander.help' ? EXIT.usage : e.exitCode;
    throw e;
  }
  return code;
}
