/**
 * Durations as Istio's CRDs accept them: Go `time.ParseDuration` syntax (`1.5s`, `100ms`, `1h30m`, `0`),
 * which is what the Kubernetes CEL `duration()` rule on Istio's CRDs checks.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds, or undefined when `text` is not a Go duration. Negative durations are returned as such. */
export function parseDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const m = PART.exec(s);
    if (m === null || m.index !== start) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return sign * total;
}

/** `1500` → `1.5s`, for messages. */
export function formatDuration(ms: number): string {
  if (ms !== 0 && Math.abs(ms) < 1) return `${+(ms * 1000).toFixed(3)}us`;
  if (Math.abs(ms) < 1000) return `${+ms.toFixed(3)}ms`;
  return `${+(ms / 1000).toFixed(3)}s`;
}
