/**
 * VirtualService delegation: a root route with `delegate` is replaced by the delegate VirtualService's
 * HTTP routes, each merged with the root route as Istio does (`mergeHTTPRoutes` in istio/istio
 * pilot/pkg/config/kube/… virtualservice.go, formerly pilot/pkg/model/virtualservice.go): every
 * delegate match must fall within a root match, and is narrowed by it; policies the delegate route
 * leaves unset are inherited from the root route. A delegate route whose matches conflict with the
 * root's is dropped.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#Delegate
 */
import type { HTTPMatchRequest, StringMatch, SpecOf } from '../../../api/index.ts';
import type { RouteContext, VirtualServiceResource } from './context.ts';

type HTTPRoute = NonNullable<SpecOf<'VirtualService'>['http']>[number];

/** An HTTP route ready to translate, with the namespace its short destination hosts resolve in. */
export interface ExpandedRoute {
  readonly route: HTTPRoute;
  readonly namespace: string;
}

/** The root's HTTP routes with every `delegate` replaced by the delegate's merged routes. */
export function expandDelegates(vs: VirtualServiceResource, ctx: RouteContext): ExpandedRoute[] {
  const out: ExpandedRoute[] = [];
  const rootNs = vs.metadata.namespace;
  for (const route of vs.spec.http ?? []) {
    if (route.delegate === undefined) {
      out.push({ route, namespace: rootNs });
      continue;
    }
    if (!route.delegate.name) continue;
    const ns = route.delegate.namespace || rootNs;
    const delegate = ctx.delegate(route.delegate.name, ns);
    // A missing, non-delegate (has hosts) or invisible delegate drops only this root route, as in Istio.
    if (delegate === undefined || (delegate.spec.hosts ?? []).length > 0 || !exportedTo(delegate, rootNs)) continue;
    for (const sub of delegate.spec.http ?? []) {
      const merged = mergeRoute(route, sub);
      if (merged !== undefined) out.push({ route: merged, namespace: delegate.metadata.namespace });
    }
  }
  return out;
}

function exportedTo(delegate: VirtualServiceResource, namespace: string): boolean {
  const exportTo = delegate.spec.exportTo ?? [];
  if (exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && delegate.metadata.namespace === namespace));
}

function joinNames(root: string | undefined, leaf: string | undefined): string | undefined {
  if (!leaf) return root;
  return root ? `${root}-${leaf}` : leaf;
}

/** The delegate route narrowed by the root route, or undefined when their matches conflict. */
export function mergeRoute(root: HTTPRoute, leaf: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match ?? [], leaf.match ?? []);
  if (match === undefined) return undefined;
  return {
    ...leaf,
    match: match.length === 0 ? undefined : match,
    name: joinNames(root.name, leaf.name),
    rewrite: leaf.rewrite ?? root.rewrite,
    directResponse: leaf.directResponse ?? root.directResponse,
    timeout: leaf.timeout ?? root.timeout,
    retries: leaf.retries ?? root.retries,
    fault: leaf.fault ?? root.fault,
    mirror: leaf.mirror ?? root.mirror,
    mirrorPercent: leaf.mirrorPercent ?? root.mirrorPercent,
    mirrorPercentage: leaf.mirrorPercentage ?? root.mirrorPercentage,
    corsPolicy: leaf.corsPolicy ?? root.corsPolicy,
    mirrors: leaf.mirrors ?? root.mirrors,
    headers: leaf.headers ?? root.headers,
  };
}

/** Every leaf match merged with each root match it fits; undefined when one leaf match fits none. */
export function mergeMatches(root: readonly HTTPMatchRequest[], leaf: readonly HTTPMatchRequest[]): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return [...leaf];
  if (leaf.length === 0) return [...root];
  const out: HTTPMatchRequest[] = [];
  for (const l of leaf) {
    const fitting = root.filter((r) => !matchesConflict(r, l));
    if (fitting.length === 0) return undefined;
    for (const r of fitting) out.push(mergeMatch(r, l));
  }
  return out;
}

function mergeMatch(root: HTTPMatchRequest, leaf: HTTPMatchRequest): HTTPMatchRequest {
  return {
    ...leaf,
    name: joinNames(root.name, leaf.name),
    uri: leaf.uri ?? root.uri,
    scheme: leaf.scheme ?? root.scheme,
    method: leaf.method ?? root.method,
    authority: leaf.authority ?? root.authority,
    headers: mergeMaps(root.headers, leaf.headers),
    withoutHeaders: mergeMaps(root.withoutHeaders, leaf.withoutHeaders),
    queryParams: mergeMaps(root.queryParams, leaf.queryParams),
    port: leaf.port || root.port,
    sourceLabels: mergeMaps(root.sourceLabels, leaf.sourceLabels),
    sourceNamespace: leaf.sourceNamespace || root.sourceNamespace,
    gateways: (leaf.gateways ?? []).length > 0 ? leaf.gateways : root.gateways,
    statPrefix: leaf.statPrefix || root.statPrefix,
  };
}

function mergeMaps<T>(root: Readonly<Record<string, T>> | undefined, leaf: Readonly<Record<string, T>> | undefined): Record<string, T> | undefined {
  if (root === undefined && leaf === undefined) return undefined;
  return { ...root, ...leaf };
}

/** Istio's hasConflict: the leaf match asks for something the root match excludes. */
export function matchesConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  for (const f of ['uri', 'scheme', 'method', 'authority'] as const) {
    if (stringMatchConflict(root[f], leaf[f])) return true;
  }
  for (const f of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    for (const [k, v] of Object.entries(leaf[f] ?? {})) if (stringMatchConflict(root[f]?.[k], v)) return true;
  }
  if (Boolean(root.ignoreUriCase) !== Boolean(leaf.ignoreUriCase)) return true;
  if (root.port && leaf.port && root.port !== leaf.port) return true;
  if (root.sourceNamespace && leaf.sourceNamespace !== root.sourceNamespace) return true;
  for (const [k, v] of Object.entries(leaf.sourceLabels ?? {})) {
    const r = root.sourceLabels?.[k];
    if (r !== undefined && r !== v) return true;
  }
  const rg = root.gateways ?? [];
  const lg = leaf.gateways ?? [];
  return rg.length > 0 && lg.length > 0 && (rg.length < lg.length || lg.some((g) => !rg.includes(g)));
}

/**
 * Istio's stringMatchConflict: regexes never nest, an exact root admits only the same exact value, a
 * prefix root admits longer prefixes and exact values under it. Empty values count as unset, as with
 * Go's getters.
 */
export function stringMatchConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (root === undefined || leaf === undefined) return false;
  const any = (m: StringMatch) => Boolean(m.regex || m.prefix || m.exact);
  if (root.regex && any(leaf)) return true;
  if (leaf.regex && any(root)) return true;
  if (root.exact) return Boolean(leaf.prefix) || (leaf.exact ?? '') !== root.exact;
  if (root.prefix) {
    if (leaf.prefix) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact) return !leaf.exact.startsWith(root.prefix);
  }
  return true;
}
