/**
 * VirtualService's layer-4 routes: `TCPRoute` with `L4MatchAttributes`, `TLSRoute` with
 * `TLSMatchAttributes` (SNI-based routing of unterminated TLS), and their weighted `RouteDestination`.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#TLSRoute
 */
import * as z from 'zod';
import { obj, rules, type RuleIssue } from '../../schema/object.ts';
import { ipOrCidr, str, selectorLabels } from '../../schema/primitives.ts';
import { wildcardHostProblem } from '../../schema/names.ts';
import { ipProblem } from '../../schema/net.ts';
import { showValue } from '../../errors.ts';
import { Destination } from './destination.ts';
import { matchPort } from './http-match.ts';
import { gatewaysRules, hostSubsetOf, namespaceName, weight, weightRules } from './route-common.ts';

export const RouteDestination = obj({ destination: Destination, weight: weight().optional() });
export type RouteDestination = z.output<typeof RouteDestination>;

export const L4MatchAttributes = rules(
  obj({
    destinationSubnets: z.array(ipOrCidr()).optional(),
    port: matchPort().optional(),
    sourceLabels: selectorLabels().optional(),
    gateways: z.array(str()).optional(),
    sourceNamespace: namespaceName().optional(),
    sourceSubnet: ipOrCidr().optional(),
  }),
  (m, report) => {
    gatewaysRules(m.gateways, ['gateways'], report);
    if (m.sourceSubnet !== undefined) report({ path: ['sourceSubnet'], severity: 'warning', message: 'sourceSubnet is deprecated' });
  },
);
export type L4MatchAttributes = z.output<typeof L4MatchAttributes>;

export const TLSMatchAttributes = rules(
  obj({
    sniHosts: z.array(str()),
    destinationSubnets: z.array(ipOrCidr()).optional(),
    port: matchPort().optional(),
    sourceLabels: selectorLabels().optional(),
    gateways: z.array(str()).optional(),
    sourceNamespace: namespaceName().optional(),
  }),
  (m, report) => {
    if (m.sniHosts.length === 0) report({ path: ['sniHosts'], message: 'TLS match needs at least one SNI host' });
    gatewaysRules(m.gateways, ['gateways'], report);
  },
);
export type TLSMatchAttributes = z.output<typeof TLSMatchAttributes>;

function destinationsRequired(kind: string, route: readonly RouteDestination[] | undefined, report: (i: RuleIssue) => void): void {
  if ((route ?? []).length === 0) report({ path: ['route'], message: `${kind} route needs at least one destination in route` });
  else weightRules(route!, ['route'], report);
}

export const TCPRoute = rules(
  obj({ match: z.array(L4MatchAttributes).optional(), route: z.array(RouteDestination).optional() }),
  (r, report) => destinationsRequired('TCP', r.route, report),
);
export type TCPRoute = z.output<typeof TCPRoute>;

export const TLSRoute = rules(
  obj({ match: z.array(TLSMatchAttributes), route: z.array(RouteDestination).optional() }),
  (r, report) => {
    if (r.match.length === 0) report({ path: ['match'], message: 'TLS route needs at least one match (TLS is routed by SNI)' });
    destinationsRequired('TLS', r.route, report);
  },
);
export type TLSRoute = z.output<typeof TLSRoute>;

/**
 * Gateways in AUTO_PASSTHROUGH mode route on SNI names Istio generates, `outbound_.PORT_._.HOST`
 * (`outbound_.80_._.reviews.default.svc.cluster.local`); VirtualServices bound to gateways may use them.
 */
export function autoSniHostProblem(host: string): string | undefined {
  const parts = host.split('_');
  const shape = `must have the form outbound_.PORT_._.HOST (got ${showValue(host)})`;
  if (parts.length < 4 || parts[0] !== 'outbound') return shape;
  const port = parts[1]!.replace(/^\.+|\.+$/g, '');
  const name = parts[3]!.replace(/^\.+|\.+$/g, '');
  if (!/[0-9]/.test(port) || !/[a-zA-Z]/.test(name)) return shape;
  return undefined;
}

/** Problem with a VirtualService host or SNI host name; `allowAutoSni` accepts generated SNI names. */
export function routeHostProblem(host: string, allowAutoSni: boolean): string | undefined {
  if (allowAutoSni && host.startsWith('outbound_')) return autoSniHostProblem(host);
  return wildcardHostProblem(host);
}

/**
 * Rules for one SNI host of a TLS match, which need the VirtualService: its format (an IP address only
 * warns: SNI carries names) and that it falls within one of the VirtualService's hosts.
 */
export function sniHostIssues(sni: string, vsHosts: readonly string[], gatewayBound: boolean): RuleIssue[] {
  if (ipProblem(sni) === undefined) return [{ severity: 'warning', message: `SNI host ${showValue(sni)} is an IP address: SNI carries host names and most clients never send an IP` }];
  const p = routeHostProblem(sni, gatewayBound);
  if (p !== undefined) return [{ message: p }];
  if (vsHosts.some((h) => hostSubsetOf(sni, h))) return [];
  return [{ message: `SNI host ${showValue(sni)} is not within any of the VirtualService hosts [${vsHosts.join(', ')}]` }];
}
