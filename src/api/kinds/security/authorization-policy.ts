/**
 * AuthorizationPolicy (security.istio.io): access control on workloads. An ALLOW policy admits only the
 * requests its rules match, DENY rejects them, AUDIT logs them, CUSTOM delegates them to an extension
 * provider (an external authorizer declared in MeshConfig).
 * https://istio.io/latest/docs/reference/config/security/authorization-policy/
 *
 * Istio also checks the `istio.io/dry-run` annotation (only with ALLOW/DENY); that lives in metadata,
 * which a spec schema cannot see.
 */
import * as z from 'zod';
import { obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { str } from '../../schema/primitives.ts';
import { defineKind } from '../kind.ts';
import { Rule, SOURCE_FIELDS } from './authorization-rule.ts';
import { policyTargetFields, policyTargetRules } from './target-ref.ts';

export const AUTHORIZATION_ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;

/** Source fields and condition keys the external authorizer of a CUSTOM policy cannot be given. */
const CUSTOM_UNSUPPORTED_SOURCE = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'serviceAccounts', 'notServiceAccounts',
] as const;

function customUnsupportedKey(key: string): boolean {
  return key === 'source.namespace' || key === 'source.serviceAccount' || key === 'source.principal' || key.startsWith('request.auth.');
}

type Spec = z.output<typeof Fields>;

function customRules(ap: Spec, report: (i: RuleIssue) => void): void {
  if ((ap.rules ?? []).length === 0) {
    report({ path: ['action'], message: 'a CUSTOM policy without rules never triggers: add an empty rule `{}` to apply it to every request' });
  }
  if ((ap.provider?.name ?? '') === '') {
    report({ path: ['provider'], message: 'action CUSTOM needs provider.name: the extension provider (declared in MeshConfig) that decides' });
  }
  (ap.rules ?? []).forEach((rule, i) => {
    (rule.from ?? []).forEach((f, j) => {
      for (const field of CUSTOM_UNSUPPORTED_SOURCE) {
        if ((f.source[field] ?? []).length > 0) report({ path: ['rules', i, 'from', j, 'source', field], message: `${field} is not supported with action CUSTOM` });
      }
    });
    (rule.when ?? []).forEach((c, j) => {
      if (customUnsupportedKey(c.key)) report({ path: ['rules', i, 'when', j, 'key'], message: `condition ${c.key} is not supported with action CUSTOM` });
    });
  });
}

/**
 * A DENY rule that only names HTTP attributes cannot be evaluated on TCP traffic, so Istio denies all
 * TCP traffic in its scope: worth a warning, since the author rarely means that.
 */
function denyOnlyHttpRule(rule: Rule): boolean {
  const sources = (rule.from ?? []).map((f) => f.source);
  const operations = (rule.to ?? []).map((t) => t.operation);
  const tcpInFrom = sources.some((s) => SOURCE_FIELDS.some((f) => f !== 'requestPrincipals' && f !== 'notRequestPrincipals' && (s[f] ?? []).length > 0));
  const tcpInTo = operations.some((o) => (o.ports ?? []).length > 0 || (o.notPorts ?? []).length > 0);
  return (sources.length > 0 && operations.length === 0 && !tcpInFrom) || (operations.length > 0 && !tcpInTo);
}

function actionRules(ap: Spec, report: (i: RuleIssue) => void): void {
  const action = ap.action ?? 'ALLOW';
  if (action === 'CUSTOM') customRules(ap, report);
  else if (ap.provider !== undefined) report({ path: ['provider'], message: `provider is only used with action CUSTOM (action is ${action})` });
  if (action !== 'DENY') return;
  if ((ap.rules ?? []).length === 0) {
    report({ path: ['action'], message: 'a DENY policy without rules never triggers: add an empty rule `{}` to deny every request' });
  }
  (ap.rules ?? []).forEach((rule, i) => {
    if (denyOnlyHttpRule(rule)) {
      report({ path: ['rules', i], severity: 'warning', message: 'this DENY rule only uses HTTP attributes, so it denies all TCP traffic in its scope; name the ports to limit it' });
    }
  });
}

const Fields = obj({
  ...policyTargetFields,
  rules: z.array(Rule).max(512).optional(),
  action: oneOf(AUTHORIZATION_ACTIONS).optional(),
  provider: obj({ name: str().optional() }).optional(),
});

export const AuthorizationPolicySpec = rules(Fields, (ap, report) => {
  policyTargetRules(ap, report);
  actionRules(ap, report);
});
export type AuthorizationPolicySpec = z.output<typeof AuthorizationPolicySpec>;

export const AuthorizationPolicy = defineKind({
  kind: 'AuthorizationPolicy',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'authorizationpolicies',
  shortNames: ['ap'],
  spec: AuthorizationPolicySpec,
  specRequired: false,
});
