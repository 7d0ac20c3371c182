/**
 * Host names as Istio resolves them: short names qualify with the config's namespace
 * (`reviews` in `default` → `reviews.default.svc.cluster.local`), wildcards match by suffix.
 */

export const DOMAIN_SUFFIX = 'svc.cluster.local';

/** Istio's ResolveShortnameToFQDN: a name without dots is qualified with `<ns>.svc.cluster.local`. */
export function resolveHost(host: string, namespace: string): string {
  if (host.includes('*') || host.includes('.')) return host;
  return `${host}.${namespace}.${DOMAIN_SUFFIX}`;
}

/** Whether `pattern` (possibly `*` or `*.suffix`) matches the concrete or wildcard host `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1);
    if (host.startsWith('*.')) return host.slice(1).endsWith(suffix);
    return host.endsWith(suffix);
  }
  return false;
}

/** Whether two host patterns can match a common host. */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** Whether an object exported with `exportTo` (in namespace `ns`) is visible from `from`. Default: everywhere. */
export function visibleFrom(exportTo: readonly string[] | undefined, ns: string, from: string): boolean {
  if (exportTo === undefined || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' && ns === from) || e === from);
}
