/**
 * The `rules` of an AuthorizationPolicy: who sends the request (`from.source`), what it does
 * (`to.operation`) and extra conditions (`when`). A rule matches when one source, one operation and
 * every condition match; an empty rule matches every request.
 * https://istio.io/latest/docs/reference/config/security/authorization-policy/#Rule
 */
import * as z from 'zod';
import { check, obj, rules, type RuleIssue } from '../../schema/object.ts';
import { nonEmpty, str } from '../../schema/primitives.ts';
import { cidrProblem } from '../../schema/net.ts';
import { showValue } from '../../errors.ts';
import { conditionKeyProblem, conditionValueCheck, portValue, serviceAccountValue } from './conditions.ts';

const values = () => z.array(nonEmpty());
const ipBlocks = () => z.array(check(str(), (v) => cidrProblem(v, true)));
const serviceAccounts = () => z.array(check(str(), serviceAccountValue)).max(16);

export const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts',
] as const;

function has(list: readonly unknown[] | undefined): boolean {
  return list !== undefined && list.length > 0;
}

export const Source = rules(
  obj({
    principals: values().optional(),
    notPrincipals: values().optional(),
    requestPrincipals: values().optional(),
    notRequestPrincipals: values().optional(),
    namespaces: values().optional(),
    notNamespaces: values().optional(),
    ipBlocks: ipBlocks().optional(),
    notIpBlocks: ipBlocks().optional(),
    remoteIpBlocks: ipBlocks().optional(),
    notRemoteIpBlocks: ipBlocks().optional(),
    serviceAccounts: serviceAccounts().optional(),
    notServiceAccounts: serviceAccounts().optional(),
  }),
  (s, report) => {
    if (!SOURCE_FIELDS.some((f) => has(s[f]))) report({ message: 'source must set at least one field (an empty source matches nothing useful)' });
    // Service accounts are an alternative spelling of principals/namespaces; mixing them is ambiguous.
    const identity = (['principals', 'notPrincipals', 'namespaces', 'notNamespaces'] as const).filter((f) => has(s[f]));
    for (const f of ['serviceAccounts', 'notServiceAccounts'] as const) {
      if (has(s[f]) && identity.length > 0) report({ path: [f], message: `${f} cannot be combined with principals or namespaces (found ${identity.join(', ')})` });
    }
  },
);
export type Source = z.output<typeof Source>;

/**
 * Paths may use `{*}` (one segment) and `{**}` (the rest, last only) templates; with a template every
 * other segment must be a plain URI segment, and braces are never allowed outside a template.
 */
export function pathTemplateProblem(path: string): string | undefined {
  const templated = path.includes('{*}') || path.includes('{**}');
  let sawAny = false;
  for (const seg of path.replace(/^\/+|\/+$/g, '').split('/')) {
    if (seg === '{*}' || seg === '{**}') {
      if (sawAny) return `{**} must be the last segment of a path template (got ${showValue(path)})`;
      sawAny = seg === '{**}';
      continue;
    }
    if (seg.includes('{') || seg.includes('}')) return `braces are only allowed as whole {*} or {**} segments (got ${showValue(path)})`;
    if (templated && !/^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/.test(seg)) {
      return `path template segment ${showValue(seg)} is not a plain URI segment; wildcards like * cannot be mixed with {*} or {**} (got ${showValue(path)})`;
    }
  }
  return undefined;
}

const paths = () => z.array(check(nonEmpty(), pathTemplateProblem));
const ports = () => z.array(check(str(), portValue));

export const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

export const Operation = rules(
  obj({
    hosts: values().optional(),
    notHosts: values().optional(),
    ports: ports().optional(),
    notPorts: ports().optional(),
    methods: values().optional(),
    notMethods: values().optional(),
    paths: paths().optional(),
    notPaths: paths().optional(),
  }),
  (op, report) => {
    if (!OPERATION_FIELDS.some((f) => has(op[f]))) report({ message: 'operation must set at least one field' });
  },
);
export type Operation = z.output<typeof Operation>;

function conditionRules(c: Condition, report: (i: RuleIssue) => void): void {
  const keyProblem = conditionKeyProblem(c.key);
  if (keyProblem !== undefined) report({ path: ['key'], message: keyProblem });
  if (!has(c.values) && !has(c.notValues)) {
    report({ message: `at least one of values or notValues must be set for key ${showValue(c.key)}` });
  }
  if (keyProblem !== undefined) return;
  const valueProblem = conditionValueCheck(c.key);
  for (const field of ['values', 'notValues'] as const) {
    (c[field] ?? []).forEach((v, i) => {
      const p = v === '' ? 'must not be empty' : valueProblem(v);
      if (p !== undefined) report({ path: [field, i], message: p });
    });
  }
}

export const Condition = rules(
  obj({
    key: str(),
    values: z.array(str()).optional(),
    notValues: z.array(str()).optional(),
  }),
  (c, report) => conditionRules(c, report),
);
export type Condition = z.output<typeof Condition>;

export const Rule = obj({
  // An explicitly empty list is almost always a mistake: leaving the field out already means "any".
  from: z.array(obj({ source: Source })).min(1).max(512).optional(),
  to: z.array(obj({ operation: Operation })).min(1).optional(),
  when: z.array(Condition).optional(),
});
export type Rule = z.output<typeof Rule>;
