/**
 * RE2 for the admin endpoints' query parameters (`/config_dump?name_regex=`, `/stats?filter=`), which
 * Envoy compiles with RE2: re2js, not JavaScript's `RegExp` (other syntax, backtracking), loaded on the
 * first request that carries one.
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

let re2: typeof RE2JS | undefined;

/** Compiles `source`; throws with RE2's message when it is not a valid RE2 expression. */
export function compileAdminRegex(source: string): RE2JS {
  re2 ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JS }).RE2JS;
  return re2.compile(source);
}
