/** PLACEHOLDER: replaced by the real schema of PeerAuthentication in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const PeerAuthenticationSpec = z.looseObject({});
export type PeerAuthenticationSpec = z.output<typeof PeerAuthenticationSpec>;

export const PeerAuthentication = defineKind({
  kind: 'PeerAuthentication',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'peerauthentications',
  shortNames: ['pa'],
  spec: PeerAuthenticationSpec,
});
