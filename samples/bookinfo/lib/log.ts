/**
 * Logging for the bookinfo apps: one access line per request on stdout (`<method> <path> <status>
 * <ms>ms`), start/stop lines on stdout, and failures (an upstream that could not be reached, a
 * handler that threw) on stderr. Nothing else, so `weft run`'s prefixed output stays readable.
 */

export function logLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function logError(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function logRequest(method: string, path: string, status: number, ms: number, aborted: boolean): void {
  logLine(`${method} ${path} ${status} ${ms.toFixed(1)}ms${aborted ? ' (client went away)' : ''}`);
}
