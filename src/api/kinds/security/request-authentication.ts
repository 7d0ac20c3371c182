/**
 * RequestAuthentication (security.istio.io): the JWTs a workload accepts. A request with an invalid
 * token is rejected; a request without one is let through (an AuthorizationPolicy can require one).
 * https://istio.io/latest/docs/reference/config/security/request_authentication/
 */
import * as z from 'zod';
import { obj, rules } from '../../schema/object.ts';
import { defineKind } from '../kind.ts';
import { JWTRule } from './jwt.ts';
import { policyTargetFields, policyTargetRules } from './target-ref.ts';

export const RequestAuthenticationSpec = rules(
  obj({
    ...policyTargetFields,
    jwtRules: z.array(JWTRule).max(4096).optional(),
  }),
  (ra, report) => policyTargetRules(ra, report),
);
export type RequestAuthenticationSpec = z.output<typeof RequestAuthenticationSpec>;

export const RequestAuthentication = defineKind({
  kind: 'RequestAuthentication',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'requestauthentications',
  shortNames: ['ra'],
  spec: RequestAuthenticationSpec,
  specRequired: false,
});
