/**
 * VirtualService (networking.istio.io): how requests for a set of hosts are routed — ordered HTTP, TLS
 * (SNI) and TCP rules, for sidecars (`mesh`) and/or gateways.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/
 *
 * The parts live beside this file: destination.ts, string-match.ts, http-match.ts, http-headers.ts,
 * http-actions.ts, http-policies.ts, http-route.ts, tcp-tls-route.ts, route-common.ts, route-analysis.ts.
 */
import * as z from 'zod';
import { obj, rules, type RuleIssue } from '../../schema/object.ts';
import { exportTo, str } from '../../schema/primitives.ts';
import { ipProblem } from '../../schema/net.ts';
import { showValue } from '../../errors.ts';
import { defineKind } from '../kind.ts';
import { HTTPRoute } from './http-route.ts';
import { routeHostProblem, sniHostIssues, TCPRoute, TLSRoute } from './tcp-tls-route.ts';
import { gatewaysRules, hostsOverlap, isJwtClaimRoute, MESH_GATEWAY } from './route-common.ts';

export const VirtualServiceSpec = rules(
  obj({
    hosts: z.array(str()).optional(),
    gateways: z.array(str()).optional(),
    http: z.array(HTTPRoute).optional(),
    tls: z.array(TLSRoute).optional(),
    tcp: z.array(TCPRoute).optional(),
    exportTo: exportTo().optional(),
  }),
  (vs, report) => {
    const hosts = vs.hosts ?? [];
    const gateways = vs.gateways ?? [];
    // A gateway-only VirtualService lists gateways and not `mesh`; otherwise it also programs sidecars.
    const gatewayOnly = gateways.length > 0 && !gateways.includes(MESH_GATEWAY);
    if (hosts.length === 0) delegateRules(vs, report);
    gatewaysRules(gateways, ['gateways'], report);
    if (!gatewayOnly) jwtClaimRules(vs, report);
    hostRules(vs, gatewayOnly, report);
    if ((vs.http ?? []).length === 0 && (vs.tcp ?? []).length === 0 && (vs.tls ?? []).length === 0) {
      report({ message: 'VirtualService needs at least one http, tcp or tls route' });
    }
    sniRules(vs, report);
  },
);
export type VirtualServiceSpec = z.output<typeof VirtualServiceSpec>;

/**
 * A VirtualService without hosts is a delegate: a root VirtualService's `delegate` pulls in its HTTP
 * routes, so it inherits the root's hosts and gateways and cannot delegate further.
 */
function delegateRules(vs: VirtualServiceSpec, report: (i: RuleIssue) => void): void {
  const why = 'a VirtualService without hosts is a delegate, which';
  if ((vs.gateways ?? []).length > 0) report({ path: ['gateways'], message: `${why} takes its gateways from the root VirtualService: remove gateways (or add hosts)` });
  if ((vs.tls ?? []).length > 0) report({ path: ['tls'], message: `${why} can only hold http routes (or add hosts)` });
  if ((vs.tcp ?? []).length > 0) report({ path: ['tcp'], message: `${why} can only hold http routes (or add hosts)` });
  (vs.http ?? []).forEach((r, i) => {
    if (r.delegate !== undefined) report({ path: ['http', i, 'delegate'], message: `${why} cannot delegate again` });
  });
}

/** Routing on JWT claims needs the claims, which only gateways (with RequestAuthentication) extract. */
function jwtClaimRules(vs: VirtualServiceSpec, report: (i: RuleIssue) => void): void {
  (vs.http ?? []).forEach((r, i) => {
    (r.match ?? []).forEach((m, k) => {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        for (const name of Object.keys(m[field] ?? {})) {
          if (isJwtClaimRoute(name)) {
            report({ path: ['http', i, 'match', k, field, name], message: `JWT claim routing (${showValue(name)}) only works on gateways: list gateways without "mesh"` });
          }
        }
      }
    });
  });
}

function hostRules(vs: VirtualServiceSpec, gatewayOnly: boolean, report: (i: RuleIssue) => void): void {
  const hosts = vs.hosts ?? [];
  const usesSni = (vs.tls ?? []).some((t) => t.match.some((m) => m.sniHosts.length > 0));
  let allValid = true;
  hosts.forEach((h, i) => {
    const p = routeHostProblem(h, gatewayOnly && usesSni);
    if (p !== undefined && ipProblem(h) !== undefined) {
      report({ path: ['hosts', i], message: p });
      allValid = false;
    } else if (p === undefined && !gatewayOnly && h === '*') {
      report({ path: ['hosts', i], message: 'host "*" is only allowed on VirtualServices bound to gateways (without "mesh"): for sidecars it would capture all traffic' });
      allValid = false;
    }
  });
  if (!allValid) return;
  for (let j = 1; j < hosts.length; j++) {
    const i = hosts.findIndex((h, n) => n < j && hostsOverlap(h, hosts[j]!));
    if (i >= 0) report({ path: ['hosts', j], message: `duplicate host: ${showValue(hosts[j])} overlaps hosts[${i}] ${showValue(hosts[i])}` });
  }
}

function sniRules(vs: VirtualServiceSpec, report: (i: RuleIssue) => void): void {
  const hosts = vs.hosts ?? [];
  const gatewayBound = !(vs.gateways ?? []).includes(MESH_GATEWAY);
  (vs.tls ?? []).forEach((t, i) => {
    t.match.forEach((m, k) => {
      m.sniHosts.forEach((sni, n) => {
        for (const issue of sniHostIssues(sni, hosts, gatewayBound)) report({ ...issue, path: ['tls', i, 'match', k, 'sniHosts', n] });
      });
    });
  });
}

export const VirtualService = defineKind({
  kind: 'VirtualService',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'virtualservices',
  shortNames: ['vs'],
  spec: VirtualServiceSpec,
});
