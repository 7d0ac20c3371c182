/**
 * The route a service port gets when no VirtualService applies (Istio's
 * `BuildDefaultHTTPOutboundRoute` and `buildSidecarVirtualHostForService`): every path to the service's
 * cluster, Istio's default retry policy, no timeout (Istio disables Envoy's default 15 s route timeout),
 * and the hash policy of the service's DestinationRule. Istio keeps the previous-hosts retry predicate
 * on this route even with consistent hashing (only VirtualService routes drop it).
 */
import type { EnvoyRoute, RouteContext } from './context.ts';
import { parseClusterName } from './decorator.ts';
import { applyTimeout } from './forward.ts';
import { catchAllMatch } from './route-match.ts';
import { defaultRetryPolicy } from './retry.ts';
import { hashPolicy, type ConsistentHash } from './consistent-hash.ts';

/** Istio names the route of a service without VirtualService `default`. */
export const DEFAULT_ROUTE_NAME = 'default';

/** `hash` is the consistent hash the service's DestinationRule sets for this port (`serviceConsistentHash`). */
export function defaultRoute(cluster: string, ctx: RouteContext, hash?: ConsistentHash): EnvoyRoute {
  const action: Record<string, unknown> = { cluster };
  applyTimeout(action, undefined, ctx);
  action['retryPolicy'] = defaultRetryPolicy();
  const policy = hashPolicy(hash);
  if (policy !== undefined) action['hashPolicy'] = [policy];
  const parsed = parseClusterName(cluster);
  const operation = parsed === undefined ? `${cluster}/*` : `${parsed.host}:${parsed.port}/*`;
  return { name: DEFAULT_ROUTE_NAME, match: catchAllMatch(), decorator: { operation }, route: action };
}
