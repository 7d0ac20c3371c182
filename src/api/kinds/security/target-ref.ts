/**
 * What a security or telemetry policy applies to: a workload `selector` (`matchLabels`), a `targetRef`
 * or a list of `targetRefs` naming a Service, ServiceEntry, Gateway or GatewayClass. Shared by
 * PeerAuthentication (selector only), RequestAuthentication, AuthorizationPolicy and Telemetry.
 * https://istio.io/latest/docs/reference/config/type/workload-selector/
 * https://istio.io/latest/docs/reference/config/type/workload-selector/#PolicyTargetReference
 */
import * as z from 'zod';
import { atMostOne, obj, rules, type RuleIssue } from '../../schema/object.ts';
import { selectorLabels, str } from '../../schema/primitives.ts';
import { showValue } from '../../errors.ts';

/** `matchLabels` of a policy selector (see `selectorLabels`). */
export const matchLabels = selectorLabels;

/** istio.type.v1beta1.WorkloadSelector. An empty selector selects every workload of the namespace. */
export const PolicySelector = rules(
  obj({ matchLabels: matchLabels().optional() }),
  (s, report) => {
    if (Object.keys(s.matchLabels ?? {}).length === 0) {
      report({ severity: 'warning', message: 'selector has no matchLabels: it selects every workload in the namespace' });
    }
  },
);
export type PolicySelector = z.output<typeof PolicySelector>;

const GROUP = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** The kinds Istio's policies can be attached to, by API group (`''` is the core group). */
const TARGETABLE: readonly { readonly group: string; readonly kind: string }[] = [
  { group: '', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  { group: 'gateway.networking.k8s.io', kind: 'GatewayClass' },
];

function targetRefRules(r: PolicyTargetReference, report: (i: RuleIssue) => void): void {
  const group = r.group ?? '';
  const badGroup = group.length > 253 || (group !== '' && !GROUP.test(group));
  const badKind = r.kind.length > 63 || !KIND.test(r.kind);
  if (badGroup) {
    report({ path: ['group'], message: `must be an API group: a DNS subdomain such as "gateway.networking.k8s.io", or "" for the core group (got ${showValue(group)})` });
  }
  if (badKind) {
    report({ path: ['kind'], message: `must be a kind name: letters, digits and '-', starting with a letter (got ${showValue(r.kind)})` });
  }
  if (r.name === '') report({ path: ['name'], message: 'must not be empty' });
  else if (r.name.length > 253) report({ path: ['name'], message: `must be at most 253 characters (got ${r.name.length})` });
  if ((r.namespace ?? '') !== '') {
    report({ path: ['namespace'], message: `cross-namespace references are not supported: leave namespace empty (got ${showValue(r.namespace)})` });
  }
  const canonical = group === 'core' ? '' : group;
  if (!badGroup && !badKind && !TARGETABLE.some((t) => t.group === canonical && t.kind === r.kind)) {
    report({
      path: ['kind'],
      message: `targetRef must name a Service (group ""), a ServiceEntry (networking.istio.io), or a Gateway or GatewayClass (gateway.networking.k8s.io) (got ${group === '' ? '' : `${group}/`}${r.kind})`,
    });
  }
}

/** istio.type.v1beta1.PolicyTargetReference: a resource in the policy's own namespace. */
export const PolicyTargetReference = rules(
  obj({
    group: str().optional(),
    kind: str(),
    name: str(),
    namespace: str().optional(),
  }),
  (r, report) => targetRefRules(r, report),
);
export type PolicyTargetReference = z.output<typeof PolicyTargetReference>;

/** The three ways a policy picks its workloads; `targetRefs` holds at most 16 references. */
export const policyTargetFields = {
  selector: PolicySelector.optional(),
  targetRef: PolicyTargetReference.optional(),
  targetRefs: z.array(PolicyTargetReference).max(16).optional(),
};

/** Rule: a policy uses at most one of selector, targetRef and targetRefs. */
export function policyTargetRules(
  spec: { selector?: unknown; targetRef?: unknown; targetRefs?: unknown },
  report: (i: RuleIssue) => void,
): void {
  atMostOne(spec, ['selector', 'targetRef', 'targetRefs'], report);
}
