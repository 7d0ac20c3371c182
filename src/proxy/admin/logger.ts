/**
 * The proxy's log: named loggers with a level each, as Envoy's, lines written to one sink (stderr by
 * default). Each part of the proxy logs through the logger Envoy names for the same part (`config`
 * for xDS and the listener manager, `conn_handler` for accepted connections, `main` for the server's
 * life, `admin` for the admin endpoint…); the wiring hands components plain `(line) => void` writers
 * (`logger.get('config').at('info')`) that read their logger's level on every call, so a change through
 * `/logging` applies at once. `/logging?level=` sets every logger, `/logging?<name>=<level>` one,
 * `/logging?paths=<name>:<level>,…` several; a name or level Envoy would not take is refused whole.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#post--logging
 */

export const LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type LogLevel = (typeof LEVELS)[number];

/**
 * The loggers weft has, by Envoy's names (`source/common/common/logger.h`) for the parts weft
 * implements: admin (admin endpoint), config (xDS, listener and cluster managers), conn_handler
 * (accepting connections), connection, http (HTTP connection manager), http2 (the HTTP/2 codec), main
 * (start-up and shutdown), pool (connection pools), router, upstream (clusters, load balancing,
 * outlier detection).
 */
export const LOGGER_NAMES = ['admin', 'config', 'conn_handler', 'connection', 'http', 'http2', 'main', 'pool', 'router', 'upstream'] as const;
export type LoggerName = (typeof LOGGER_NAMES)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LEVELS as readonly string[]).includes(value);
}

export function isLoggerName(value: string): value is LoggerName {
  return (LOGGER_NAMES as readonly string[]).includes(value);
}

/** One named logger: its level, and writers that check it on every line. */
export class NamedLogger {
  readonly name: LoggerName;
  level: LogLevel;
  readonly #sink: (line: string) => void;

  constructor(name: LoggerName, level: LogLevel, sink: (line: string) => void) {
    this.name = name;
    this.level = level;
    this.#sink = sink;
  }

  /** Whether a line at `level` would be written now (check before building a costly line). */
  enabled(level: LogLevel): boolean {
    return level !== 'off' && LEVELS.indexOf(level) >= LEVELS.indexOf(this.level);
  }

  log(level: LogLevel, line: string): void {
    if (this.enabled(level)) this.#sink(line);
  }

  /** A line writer at a fixed level, for components that take `log: (line) => void`. */
  at(level: LogLevel): (line: string) => void {
    return (line) => this.log(level, line);
  }
}

export class Logger {
  readonly #loggers: ReadonlyMap<LoggerName, NamedLogger>;

  constructor(level: LogLevel = 'info', sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {
    this.#loggers = new Map(LOGGER_NAMES.map((n) => [n, new NamedLogger(n, level, sink)]));
  }

  /** The logger named `name`. */
  get(name: LoggerName): NamedLogger {
    return this.#loggers.get(name)!;
  }

  /** Sets every logger's level (`/logging?level=`, `--log-level`). */
  setAll(level: LogLevel): void {
    for (const l of this.#loggers.values()) l.level = level;
  }

  /**
   * Sets the levels of the named loggers (`/logging?<name>=<level>`, `?paths=`); changes nothing and
   * returns Envoy's reason when a name or a level is unknown.
   */
  setLevels(changes: readonly (readonly [name: string, level: string])[]): string | undefined {
    // In Envoy's order: every pair's level first, then the names.
    for (const [name, level] of changes) {
      if (name === '' || level === '') return 'empty logger name or empty logger level';
      if (!isLogLevel(level)) return 'unknown logger level';
    }
    if (!changes.every(([name]) => isLoggerName(name))) return 'unknown logger name';
    for (const [name, level] of changes) this.get(name as LoggerName).level = level as LogLevel;
    return undefined;
  }

  /** `/logging`'s listing, as Envoy's: every logger with its level. */
  listing(): string {
    return `active loggers:\n${[...this.#loggers.values()].map((l) => `  ${l.name}: ${l.level}\n`).join('')}\n`;
  }
}
