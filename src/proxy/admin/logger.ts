/**
 * The proxy's log: one level for the whole process (Envoy's `/logging?level=` sets every logger), lines
 * written to a sink (stderr by default). Components take plain `(line) => void` functions; the wiring
 * hands them `logger.at('info')` etc., so a level change applies to them at once.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#post--logging
 */

export const LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** The loggers `/logging` lists (Envoy's names for the parts weft has). */
const LOGGER_NAMES = ['admin', 'config', 'conn_handler', 'connection', 'http', 'main', 'pool', 'router', 'upstream'] as const;

export function isLogLevel(value: string): value is LogLevel {
  return (LEVELS as readonly string[]).includes(value);
}

export class Logger {
  #level: LogLevel;
  readonly #sink: (line: string) => void;

  constructor(level: LogLevel = 'info', sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {
    this.#level = level;
    this.#sink = sink;
  }

  get level(): LogLevel {
    return this.#level;
  }

  set level(level: LogLevel) {
    this.#level = level;
  }

  enabled(level: LogLevel): boolean {
    return level !== 'off' && LEVELS.indexOf(level) >= LEVELS.indexOf(this.#level);
  }

  log(level: LogLevel, line: string): void {
    if (this.enabled(level)) this.#sink(line);
  }

  /** A line writer at a fixed level, for components that take `log: (line) => void`. */
  at(level: LogLevel): (line: string) => void {
    return (line) => this.log(level, line);
  }

  /** `/logging`'s listing: every logger with the current level. */
  listing(): string {
    return `active loggers:\n${LOGGER_NAMES.map((n) => `  ${n}: ${this.#level}`).join('\n')}\n`;
  }
}
