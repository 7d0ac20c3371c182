/** `weft analyze`: placeholder until the analyzers land (this session). */
import type { Command } from 'commander';
import type { Io } from './io.ts';

export function register(_program: Command, _io: Io, _setExit: (code: number) => void): void {}
