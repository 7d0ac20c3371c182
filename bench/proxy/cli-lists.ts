/**
 * The list options the proxy tools share: `--env K=V,…` (environment for the proxies) and
 * `--node-args "…"` (their extra Node flags). An entry without `=` is an error naming it, not a
 * variable with a clipped name.
 */

/** `K=V,K2=V2` → `{ K: 'V', K2: 'V2' }` (a value may contain `=`; empty entries are skipped). */
export function envList(text: string, option = '--env'): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of text.split(',')) {
    if (kv === '') continue;
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`${option}: "${kv}" is not NAME=VALUE`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** Node flags separated by spaces (`--node-args "--a --b=1"`). */
export function nodeArgList(text: string): string[] {
  return text.split(' ').filter((a) => a !== '');
}
