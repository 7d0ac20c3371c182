/**
 * The tracing operation name of a route (Istio's `GetRouteOperation`): `host:port/path` when the route
 * goes to one service cluster, else `<VirtualService name>:port/path`, where path is the match (`/x*`
 * for a prefix). Envoy reports it as the span name.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-decorator
 */

/** `outbound|9080|v1|reviews.default.svc.cluster.local` → host and port, or undefined for other names. */
export function parseClusterName(name: string): { direction: string; port: number; subset: string; host: string } | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const port = Number(parts[1]);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  return { direction: parts[0]!, port, subset: parts[2]!, host: parts[3]! };
}

function matchPath(match: Record<string, unknown> | undefined): string {
  if (match === undefined) return '/*';
  if (typeof match['prefix'] === 'string') return `${match['prefix']}*`;
  if (typeof match['path'] === 'string') return match['path'];
  const regex = (match['safeRegex'] as { regex?: string } | undefined)?.regex;
  return regex ?? '/*';
}

export function routeOperation(route: Record<string, unknown>, vsName: string, port: number): string {
  const path = matchPath(route['match'] as Record<string, unknown> | undefined);
  const cluster = (route['route'] as { cluster?: unknown } | undefined)?.cluster;
  const parsed = typeof cluster === 'string' ? parseClusterName(cluster) : undefined;
  if (parsed !== undefined && parsed.host !== '') return `${parsed.host}:${parsed.port}${path}`;
  return `${vsName}:${port}${path}`;
}
