/**
 * Snapshot consistency (go-control-plane's `Consistent()`): a proxy never receives a route naming a
 * cluster it has not been sent. A route whose cluster does not exist (a subset no DestinationRule defines,
 * a port the service lacks) is rewritten into a 503 direct response that names the missing cluster, so
 * the failure says why instead of Envoy's bare "NC".
 */

type Obj = Record<string, unknown>;

/** Cluster names a route sends traffic to (main action and mirrors). */
export function routeClusters(route: Obj): string[] {
  const action = route['route'] as Obj | undefined;
  if (action === undefined) return [];
  const out: string[] = [];
  if (typeof action['cluster'] === 'string') out.push(action['cluster']);
  const weighted = action['weightedClusters'] as { clusters?: { name: string }[] } | undefined;
  for (const c of weighted?.clusters ?? []) out.push(c.name);
  for (const m of (action['requestMirrorPolicies'] as { cluster?: string }[] | undefined) ?? []) if (m.cluster) out.push(m.cluster);
  return out;
}

function missingClusterRoute(route: Obj, missing: readonly string[]): Obj {
  const { route: _action, ...rest } = route;
  return {
    ...rest,
    directResponse: { status: 503, body: { inlineString: `weft: no cluster ${missing.join(', ')} (unknown service port or DestinationRule subset)\n` } },
    responseHeadersToAdd: [
      ...((route['responseHeadersToAdd'] as Obj[] | undefined) ?? []),
      { header: { key: 'x-weft-error', value: `cluster-not-found: ${missing[0]}` }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ],
  };
}

const rewritten = new WeakMap<object, Map<string, Obj>>();

/**
 * `config` with every route whose clusters are not all in `known` turned into a 503 direct response.
 * Returns `config` itself when nothing is missing; rewritten configs are cached per known-set key.
 */
export function withKnownClusters<T extends Obj>(config: T, known: ReadonlySet<string>, knownKey: string): T {
  const cache = rewritten.get(config);
  const hit = cache?.get(knownKey);
  if (hit !== undefined) return hit as T;
  let changed = false;
  const virtualHosts = ((config['virtualHosts'] as Obj[] | undefined) ?? []).map((vh) => {
    const routes = ((vh['routes'] as Obj[] | undefined) ?? []).map((r) => {
      const missing = routeClusters(r).filter((c) => !known.has(c));
      if (missing.length === 0) return r;
      changed = true;
      return missingClusterRoute(r, missing);
    });
    return { ...vh, routes };
  });
  const result = changed ? ({ ...config, virtualHosts } as T) : config;
  const map = cache ?? new Map<string, Obj>();
  map.set(knownKey, result);
  if (cache === undefined) rewritten.set(config, map);
  return result;
}
