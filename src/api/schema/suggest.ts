/** "Did you mean" suggestions for unknown field names and enum values. */
import { distance } from 'fastest-levenshtein';

function normalize(s: string): string {
  return s.replace(/[_-]/g, '').toLowerCase();
}

/** Whether `a` is `b` with two adjacent characters swapped (`hots` → `host`). */
function isTransposition(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i < a.length - 1 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/**
 * The known name closest to `input`, or undefined when none is close enough to be a likely typo.
 * Catches case and snake_case slips (`export_to` → `exportTo`) and small edit distances (`weigth` → `weight`).
 */
export function closest(input: string, known: readonly string[]): string | undefined {
  const norm = normalize(input);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    if (normalize(k) === norm || isTransposition(input, k)) return k;
    const d = distance(input.toLowerCase(), k.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = k;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(input.length / 3)));
  return bestScore <= limit ? best : undefined;
}

/** ` (did you mean "x"?)` or the empty string. */
export function didYouMean(input: string, known: readonly string[]): string {
  const c = closest(input, known);
  return c === undefined ? '' : ` (did you mean ${JSON.stringify(c)}?)`;
}
