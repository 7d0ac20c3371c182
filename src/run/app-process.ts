/**
 * The app `weft run` supervises: a child process in a process group of its own, so a Ctrl-C in the
 * terminal reaches only `weft run`, which drains the sidecar first and then stops the app (and whatever
 * the app started: signals go to the whole group). Its stdout and stderr are copied line by line with
 * the workload's prefix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { pipeLines, type LineSink } from './line-prefix.ts';

export interface AppExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface AppProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Put in front of every line the app writes, e.g. `[reviews-v1] `. */
  readonly prefix: string;
  readonly stdout: LineSink;
  readonly stderr: LineSink;
  /** Give the app weft's stdin (default: only when it is not a terminal, which a background process group cannot read). */
  readonly stdin?: 'inherit' | 'ignore';
}

/** How long the app's last output may take to arrive after it exits. */
const OUTPUT_GRACE_MS = 500;

/** The shell's convention: the exit code, or 128 + the number of the signal that ended the process. */
export function exitCodeOf(exit: AppExit): number {
  if (exit.code !== null) return exit.code;
  const n = exit.signal === null ? undefined : constants.signals[exit.signal];
  return n === undefined ? 1 : 128 + n;
}

export class AppProcess {
  readonly #child: ChildProcess;
  #exit: AppExit | undefined;
  /** Resolves when the app has exited and its output has been copied. */
  readonly exited: Promise<AppExit>;

  private constructor(child: ChildProcess, exited: Promise<AppExit>) {
    this.#child = child;
    this.exited = exited.then((e) => (this.#exit = e));
  }

  /** Starts the app. A command that cannot start (not found, not executable) exits with 127, its reason on stderr. */
  static spawn(opts: AppProcessOptions): AppProcess {
    const stdin = opts.stdin ?? (process.stdin.isTTY ? 'ignore' : 'inherit');
    const child = spawn(opts.command, [...opts.args], { env: opts.env, cwd: opts.cwd, detached: true, stdio: [stdin, 'pipe', 'pipe'] });
    const output = Promise.all([pipeLines(child.stdout!, opts.prefix, opts.stdout), pipeLines(child.stderr!, opts.prefix, opts.stderr)]);
    const exited = new Promise<AppExit>((resolve) => {
      child.once('error', (e) => {
        if (child.pid !== undefined) return;
        opts.stderr.write(`${opts.prefix}cannot start ${JSON.stringify(opts.command)}: ${e.message}\n`);
        resolve({ code: 127, signal: null });
      });
      child.once('exit', (code, signal) => {
        killGroup(child, 'SIGKILL');
        const grace = new Promise((r) => setTimeout(r, OUTPUT_GRACE_MS).unref());
        void Promise.race([output, grace]).then(() => resolve({ code, signal }));
      });
    });
    return new AppProcess(child, exited);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Undefined while the app runs. */
  get exit(): AppExit | undefined {
    return this.#exit;
  }

  /** Sends `signal` to the app's process group. */
  signal(signal: NodeJS.Signals): void {
    if (this.#exit === undefined) killGroup(this.#child, signal);
  }

  /** SIGTERM, then SIGKILL if the app is still running after `timeoutMs`. Resolves with how it exited. */
  async terminate(timeoutMs: number): Promise<AppExit> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone (ESRCH): nothing left to signal.
  }
}
