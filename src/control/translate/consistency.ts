/**
 * Snapshot consistency (go-control-plane's `Consistent()`): a proxy never receives a route naming a
 * cluster it has not been sent. A route whose cluster does not exist (a subset no DestinationRule defines,
 * a port the service lacks) is rewritten into a 503 direct response that names the missing cluster, so
 * the failure says why instead of Envoy's bare "NC".
 */
import { memoized } from '../../util/memo.ts';

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

/** Per object (a route configuration or a virtual host), its checked form per known-set key. */
const checked = new WeakMap<object, Map<string, Obj>>();

function cached<T extends Obj>(o: T, knownKey: string, make: () => T): T {
  return memoized(memoized(checked, o, () => new Map<string, Obj>()), knownKey, make) as T;
}

/** A virtual host with its routes to unknown clusters rewritten; the same object when none is missing. */
function checkedVirtualHost(vh: Obj, known: ReadonlySet<string>, knownKey: string): Obj {
  return cached(vh, knownKey, () => {
    let changed = false;
    const routes = ((vh['routes'] as Obj[] | undefined) ?? []).map((r) => {
      const missing = routeClusters(r).filter((c) => !known.has(c));
      if (missing.length === 0) return r;
      changed = true;
      return missingClusterRoute(r, missing);
    });
    return changed ? { ...vh, routes } : vh;
  });
}

/**
 * `config` with every route whose clusters are not all in `known` turned into a 503 direct response.
 * `knownKey` names the content of `known` (the same key only for the same content). Returns `config` itself when nothing
 * is missing, and keeps every virtual host that needs no rewrite the same object; results are cached
 * per object and key, so a virtual host reused from an earlier push is not checked again.
 */
export function withKnownClusters<T extends Obj>(config: T, known: ReadonlySet<string>, knownKey: string): T {
  return cached(config, knownKey, () => {
    const before = (config['virtualHosts'] as Obj[] | undefined) ?? [];
    let changed = false;
    const virtualHosts = before.map((vh) => {
      const after = checkedVirtualHost(vh, known, knownKey);
      if (after !== vh) changed = true;
      return after;
    });
    return changed ? ({ ...config, virtualHosts } as T) : config;
  });
}
