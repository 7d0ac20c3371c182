/** PLACEHOLDER: replaced by the real schema of AuthorizationPolicy in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const AuthorizationPolicySpec = z.looseObject({});
export type AuthorizationPolicySpec = z.output<typeof AuthorizationPolicySpec>;

export const AuthorizationPolicy = defineKind({
  kind: 'AuthorizationPolicy',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'authorizationpolicies',
  shortNames: ['ap'],
  spec: AuthorizationPolicySpec,
});
