/**
 * Host name semantics of Istio's config, shared by analysis and translation: short names qualify with
 * the config's namespace (`reviews` in `default` → `reviews.default.svc.cluster.local`), wildcards match by
 * suffix, and `exportTo` decides visibility.
 */

export const DOMAIN_SUFFIX = 'svc.cluster.local';

/** Istio's ResolveShortnameToFQDN: a name without dots is qualified with `<ns>.svc.cluster.local`. */
export function resolveHost(host: string, namespace: string): string {
  if (host.includes('*') || host.includes('.')) return host;
  return `${host}.${namespace}.${DOMAIN_SUFFIX}`;
}

/**
 * Whether `pattern` (`*`, `*.suffix`, `*foo.suffix` or exact) matches `host`; a wildcard `host` matches
 * when its suffix is within the pattern's.
 */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (!pattern.startsWith('*')) return false;
  const suffix = pattern.slice(1);
  return host.startsWith('*') ? host.slice(1).endsWith(suffix) : host.endsWith(suffix);
}

/** Whether two host patterns can match a common host. */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/**
 * `namespace/name` of a gateway named in a VirtualService of namespace `ns`: `ns/name` as is, a bare
 * `name` in the VirtualService's namespace, and Istio's legacy `name.namespace` form.
 */
export function gatewayRef(ref: string, ns: string): string {
  if (ref.includes('/')) return ref;
  const dot = ref.indexOf('.');
  return dot > 0 ? `${ref.slice(dot + 1)}/${ref.slice(0, dot)}` : `${ns}/${ref}`;
}

/** Whether an object in namespace `ns` exported with `exportTo` is visible from namespace `from`. */
export function visibleFrom(exportTo: readonly string[] | undefined, ns: string, from: string): boolean {
  if (exportTo === undefined || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === from || (e === '.' && ns === from));
}
