/**
 * `HTTPRoute` and `HTTPRouteDestination`: one HTTP routing rule of a VirtualService — its matches and
 * what it does (forward, redirect, respond directly or delegate), with its per-route policies.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute
 */
import * as z from 'zod';
import { obj, rules, type RuleIssue } from '../../schema/object.ts';
import { bool, str, uint32 } from '../../schema/primitives.ts';
import { Destination } from './destination.ts';
import { Headers, isAuthorityHeader } from './http-headers.ts';
import { HTTPMatchRequest } from './http-match.ts';
import { Delegate, HTTPDirectResponse, HTTPRedirect, HTTPRewrite } from './http-actions.ts';
import { CorsPolicy, HTTPFaultInjection, HTTPMirrorPolicy, HTTPRetry } from './http-policies.ts';
import { mirrorPercentProblem, Percent, routeDuration, weight, weightRules } from './route-common.ts';

export const HTTPRouteDestination = obj({
  destination: Destination,
  weight: weight().optional(),
  headers: Headers.optional(),
});
export type HTTPRouteDestination = z.output<typeof HTTPRouteDestination>;

export const HTTPRoute = rules(
  obj({
    name: str().optional(),
    match: z.array(HTTPMatchRequest).optional(),
    route: z.array(HTTPRouteDestination).optional(),
    redirect: HTTPRedirect.optional(),
    directResponse: HTTPDirectResponse.optional(),
    delegate: Delegate.optional(),
    rewrite: HTTPRewrite.optional(),
    timeout: routeDuration().optional(),
    retries: HTTPRetry.optional(),
    fault: HTTPFaultInjection.optional(),
    mirror: Destination.optional(),
    mirrors: z.array(HTTPMirrorPolicy).optional(),
    mirrorPercent: uint32().nullable().optional(),
    mirror_percent: uint32().nullable().optional(),
    mirrorPercentage: Percent.optional(),
    corsPolicy: CorsPolicy.optional(),
    headers: Headers.optional(),
    // Removed from Istio's API (upgrades are always allowed) but still in Istio's websockets sample;
    // Kubernetes prunes it with a warning, so weft accepts it with one.
    websocketUpgrade: bool().optional(),
  }),
  (r, report) => {
    if (r.websocketUpgrade !== undefined) report({ path: ['websocketUpgrade'], severity: 'warning', message: 'websocketUpgrade was removed from Istio\'s API and is ignored: WebSocket upgrades are always allowed' });
    actionRules(r, report);
    mirrorRules(r, report);
    authorityRules(r, report);
    weightRules(r.route ?? [], ['route'], report);
  },
);
export type HTTPRoute = z.output<typeof HTTPRoute>;

/** A route forwards (`route`), redirects, responds directly, or delegates: these exclude each other. */
function actionRules(r: HTTPRoute, report: (i: RuleIssue) => void): void {
  const hasRoute = (r.route ?? []).length > 0;
  if (r.delegate !== undefined) {
    // The delegate VirtualService supplies the routes; the root route only matches.
    if (hasRoute) report({ path: ['route'], message: 'a route with delegate cannot also set route: the delegate VirtualService provides the destinations' });
    if (r.redirect !== undefined) report({ path: ['redirect'], message: 'a route with delegate cannot also set redirect' });
    if (r.directResponse !== undefined) report({ path: ['directResponse'], severity: 'warning', message: 'a route with delegate should not set directResponse: the delegate VirtualService decides how requests are answered' });
    return;
  }
  const terminal = r.redirect !== undefined ? 'redirect' : r.directResponse !== undefined ? 'directResponse' : undefined;
  if (terminal === undefined) {
    if (!hasRoute) report({ message: 'HTTP route needs route, redirect, directResponse or delegate' });
    return;
  }
  if (hasRoute) report({ path: ['route'], message: `route cannot be combined with ${terminal}: a ${terminal} never forwards the request` });
  if (r.fault !== undefined) report({ path: ['fault'], message: `fault cannot be combined with ${terminal}` });
  if (r.rewrite !== undefined) report({ path: ['rewrite'], message: `rewrite cannot be combined with ${terminal}` });
  if (terminal === 'redirect' && r.directResponse !== undefined) report({ path: ['directResponse'], message: 'directResponse cannot be combined with redirect' });
  for (const f of ['mirror', 'mirrors', 'retries', 'timeout'] as const) {
    if (r[f] !== undefined) report({ path: [f], severity: 'warning', message: `${f} has no effect on a ${terminal} route: no request is forwarded` });
  }
}

function mirrorRules(r: HTTPRoute, report: (i: RuleIssue) => void): void {
  if (r.mirror !== undefined && (r.mirrors ?? []).length > 0) report({ path: ['mirrors'], message: 'mirror and mirrors cannot both be set: move mirror into mirrors' });
  for (const f of ['mirrorPercent', 'mirror_percent'] as const) {
    const v = r[f];
    if (v === undefined || v === null) continue;
    if (v > 100) report({ path: [f], message: `must be at most 100 (got ${v})` });
    report({ path: [f], severity: 'warning', message: `${f} is deprecated: use mirrorPercentage` });
  }
  if (r.mirrorPercentage !== undefined) {
    const p = mirrorPercentProblem(r.mirrorPercentage.value);
    if (p !== undefined) report({ path: ['mirrorPercentage', 'value'], message: p });
  }
}

/** The authority can be rewritten in one place only: rewrite.authority or a request host/:authority header. */
function authorityRules(r: HTTPRoute, report: (i: RuleIssue) => void): void {
  let current = r.rewrite?.authority || undefined;
  for (const op of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(r.headers?.request?.[op] ?? {})) {
      if (!isAuthorityHeader(name)) continue;
      if (current !== undefined) {
        report({ path: ['headers', 'request', op, name], message: `the authority is already set to ${JSON.stringify(current)}: it cannot also be set to ${JSON.stringify(value)}` });
      } else current = value;
    }
  }
}
