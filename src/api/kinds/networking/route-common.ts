/**
 * Pieces shared by VirtualService's HTTP, TLS and TCP routes: route durations, percentages, `gateways`
 * references, weighted destinations, JWT-claim header names and Istio's host-name comparisons.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/
 */
import * as z from 'zod';
import { check, obj, type RuleIssue } from '../../schema/object.ts';
import { duration, int32 } from '../../schema/primitives.ts';
import { dns1123LabelProblem, fqdnProblem } from '../../schema/names.ts';
import { parseDuration } from '../../schema/duration.ts';
import { showValue } from '../../errors.ts';

const q = showValue;

/** Envoy route timeouts and intervals: at least 1ms, in whole milliseconds (Istio's ValidateDuration). */
export function routeDuration() {
  return check(duration({ min: '1ms' }), (v) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms < 1) return undefined;
    return Math.abs(ms - Math.round(ms)) > 1e-6 ? `must be a whole number of milliseconds (got ${q(v)})` : undefined;
  });
}

/** `Percent` wraps a double so that 0 can be told apart from unset. */
export const Percent = obj({ value: z.number() });
export type Percent = z.output<typeof Percent>;

/** Fault percentages: 0, or 0.0001–100 (Envoy's smallest fraction is one in a million). */
export function faultPercentProblem(p: Percent): string | undefined {
  const v = p.value;
  if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) return `must be 0 or between 0.0001 and 100 (got ${v})`;
  return undefined;
}

export function mirrorPercentProblem(v: number): string | undefined {
  return v < 0 || v > 100 ? `mirror percentage must be between 0 and 100 (got ${v})` : undefined;
}

/** Weights are relative (each destination gets weight/sum); Istio only forbids negative values. */
export const weight = () => check(int32(), (w) => (w < 0 ? `weight must not be negative (got ${w})` : undefined));

/**
 * Rules over a list of weighted destinations: several destinations cannot all weigh 0 (no traffic would
 * flow). Weights above 100 are accepted by Istio (they are relative) but usually mean a percentage was
 * intended, so they warn.
 */
export function weightRules(routes: readonly { weight?: number | undefined }[], path: readonly (string | number)[], report: (i: RuleIssue) => void): void {
  let total = 0;
  routes.forEach((r, i) => {
    const w = r.weight ?? 0;
    total += w;
    // Istio's API defines a weight as a percentage (0-100) whose sum across destinations should be 100;
    // Envoy would accept larger relative weights, but a weight over 100 is almost always a typo.
    if (w > 100) report({ path: [...path, i, 'weight'], message: `must be between 0 and 100 (got ${w})` });
  });
  if (routes.length > 1 && total === 0) report({ path, message: `the weights of the ${routes.length} destinations add up to 0: set a positive weight on at least one` });
  else if (routes.length > 1 && total !== 100 && routes.every((r) => (r.weight ?? 0) <= 100)) {
    report({ path, severity: 'warning', message: `the weights add up to ${total}, not 100: each destination gets weight/${total} of the traffic` });
  }
}

/** A `gateways` entry: `mesh`, `namespace/name`, or a bare name (the VirtualService's namespace). */
export function gatewayNameIssues(name: string): RuleIssue[] {
  const slash = name.indexOf('/');
  if (slash < 0) {
    const out: RuleIssue[] = [];
    const p = fqdnProblem(name);
    if (p !== undefined) out.push({ message: `gateway reference must be "mesh", "namespace/name" or a gateway name (got ${q(name)})` });
    else if (name.includes('.')) {
      const [gw, ns] = name.split('.');
      out.push({ severity: 'warning', message: `${q(name)} uses the legacy name.namespace form; prefer ${q(`${ns}/${gw}`)}` });
    }
    return out;
  }
  const ns = name.slice(0, slash);
  const gw = name.slice(slash + 1);
  if (ns === '' || gw === '') return [{ message: `namespace and gateway name must both be set in "namespace/name" (got ${q(name)})` }];
  const out: RuleIssue[] = [];
  if (dns1123LabelProblem(ns) !== undefined) out.push({ message: `namespace ${q(ns)} in ${q(name)} must be a DNS-1123 label` });
  if (dns1123LabelProblem(gw) !== undefined) out.push({ message: `gateway name ${q(gw)} in ${q(name)} must be a DNS-1123 label` });
  return out;
}

/** Reports every problem of a `gateways` list, at `path[i]`. */
export function gatewaysRules(gateways: readonly string[] | undefined, path: readonly (string | number)[], report: (i: RuleIssue) => void): void {
  (gateways ?? []).forEach((g, i) => {
    for (const issue of gatewayNameIssues(g)) report({ ...issue, path: [...path, i] });
  });
}

export const MESH_GATEWAY = 'mesh';

/** Headers named `@request.auth.claims.a.b` or `@request.auth.claims[a][b]` match JWT claims, not headers. */
export function isJwtClaimRoute(name: string): boolean {
  const prefix = '@request.auth.claims';
  if (!name.toLowerCase().startsWith(prefix)) return false;
  const rest = name.slice(prefix.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

/** Istio's host.Name.Matches: the two (possibly wildcard) hosts have at least one name in common. */
export function hostsOverlap(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: every name matched by `a` is matched by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (a.startsWith('*')) return b.startsWith('*') && a.slice(1).endsWith(b.slice(1));
  if (b.startsWith('*')) return a.endsWith(b.slice(1));
  return a === b;
}

/** A namespace name used in `sourceNamespace`. */
export const namespaceName = () => check(z.string(), dns1123LabelProblem);
