/** PLACEHOLDER: replaced by the real schema of RequestAuthentication in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const RequestAuthenticationSpec = z.looseObject({});
export type RequestAuthenticationSpec = z.output<typeof RequestAuthenticationSpec>;

export const RequestAuthentication = defineKind({
  kind: 'RequestAuthentication',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'requestauthentications',
  shortNames: ['ra'],
  spec: RequestAuthenticationSpec,
});
