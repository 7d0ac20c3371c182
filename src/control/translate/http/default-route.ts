/**
 * The route a service port gets when no VirtualService applies (Istio's
 * `BuildDefaultHTTPOutboundRoute`): every path to the service's cluster, Istio's default retry policy,
 * and no timeout (Istio disables Envoy's default 15 s route timeout).
 */
import type { EnvoyRoute, RouteContext } from './context.ts';
import { parseClusterName } from './decorator.ts';
import { applyTimeout } from './forward.ts';
import { catchAllMatch } from './route-match.ts';
import { defaultRetryPolicy } from './retry.ts';

/** Istio names the route of a service without VirtualService `default`. */
export const DEFAULT_ROUTE_NAME = 'default';

export function defaultRoute(cluster: string, ctx: RouteContext): EnvoyRoute {
  const action: Record<string, unknown> = { cluster };
  applyTimeout(action, undefined, ctx);
  action['retryPolicy'] = defaultRetryPolicy();
  const parsed = parseClusterName(cluster);
  const operation = parsed === undefined ? `${cluster}/*` : `${parsed.host}:${parsed.port}/*`;
  return { name: DEFAULT_ROUTE_NAME, match: catchAllMatch(), decorator: { operation }, route: action };
}
