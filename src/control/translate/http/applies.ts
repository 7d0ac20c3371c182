/**
 * Whether a VirtualService, or one of its HTTP matches, applies to the routes being built: the
 * gateway (or `mesh`) they are for, the listener port, and the proxy's labels and namespace. Istio
 * drops the matches that do not fit instead of translating them (`sourceMatchHTTP` and the port check
 * in `TranslateRoute`, istio/istio pilot/pkg/networking/core/route/route.go).
 */
import type { HTTPMatchRequest } from '../../../api/index.ts';
import type { RouteContext, VirtualServiceResource } from './context.ts';

export const MESH_GATEWAY = 'mesh';

/**
 * A `gateways` entry as `namespace/name` (Istio's resolveGatewayName): `mesh` stays, a bare name or
 * `./name` is in the VirtualService's namespace, and the legacy `name.namespace[.svc…]` form is turned
 * around.
 */
export function resolveGatewayName(ref: string, vsNamespace: string): string {
  if (ref === MESH_GATEWAY) return ref;
  const slash = ref.indexOf('/');
  if (slash >= 0) return ref.slice(0, slash) === '.' ? `${vsNamespace}/${ref.slice(slash + 1)}` : ref;
  const dot = ref.indexOf('.');
  if (dot < 0) return `${vsNamespace}/${ref}`;
  const rest = ref.slice(dot + 1);
  const end = rest.indexOf('.');
  return `${end < 0 ? rest : rest.slice(0, end)}/${ref.slice(0, dot)}`;
}

/** The gateway the routes are built for: `namespace/name`, or `mesh` for sidecars and gRPC clients. */
export function contextGateway(ctx: RouteContext): string {
  return ctx.gateway ?? MESH_GATEWAY;
}

function includesGateway(refs: readonly string[], vsNamespace: string, gateway: string): boolean {
  return refs.some((g) => resolveGatewayName(g, vsNamespace) === gateway);
}

/** A VirtualService without `gateways` is for the mesh only. */
export function virtualServiceApplies(vs: VirtualServiceResource, ctx: RouteContext): boolean {
  const gateways = vs.spec.gateways ?? [];
  const refs = gateways.length === 0 ? [MESH_GATEWAY] : gateways;
  return includesGateway(refs, vs.metadata.namespace, contextGateway(ctx));
}

function labelsSubset(want: Readonly<Record<string, string>> | undefined, have: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(want ?? {})) if (have[k] !== v) return false;
  return true;
}

/**
 * Whether a match can apply here. A match naming `gateways` is decided by them alone (its source labels
 * are then not checked, as in Istio); otherwise by `sourceLabels` and `sourceNamespace`.
 */
export function matchApplies(m: HTTPMatchRequest | undefined, ctx: RouteContext, vsNamespace: string): boolean {
  if (m === undefined) return true;
  if (m.port !== undefined && m.port !== 0 && m.port !== ctx.listenerPort) return false;
  if ((m.gateways ?? []).length > 0) return includesGateway(m.gateways!, vsNamespace, contextGateway(ctx));
  if (!labelsSubset(m.sourceLabels, ctx.proxy.labels)) return false;
  return !m.sourceNamespace || m.sourceNamespace === ctx.proxy.namespace;
}
