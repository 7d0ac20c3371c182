/**
 * The entry `bin/weft.js` uses for `weft proxy`, `weft gateway` and `weft run` (whose process is its
 * workload's sidecar): the same commands as in `main.ts`, on a program that registers only them, so a
 * sidecar process loads the proxy's modules and commander, not the config API, analysis or control
 * plane (tens of MB of RSS in every sidecar).
 */
import { processIo, type Io } from './io.ts';
import { runProgram, weftProgram } from './program.ts';
import * as proxy from './proxy.ts';
import * as gateway from './gateway.ts';
import * as run from './run.ts';

export async function proxyMain(argv: readonly string[], io: Io = processIo): Promise<number> {
  return runProgram(weftProgram(io), [proxy, gateway, run], argv, io);
}
