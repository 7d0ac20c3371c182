/** PLACEHOLDER: replaced by the real schema of VirtualService in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const VirtualServiceSpec = z.looseObject({});
export type VirtualServiceSpec = z.output<typeof VirtualServiceSpec>;

export const VirtualService = defineKind({
  kind: 'VirtualService',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'virtualservices',
  shortNames: ['vs'],
  spec: VirtualServiceSpec,
});
