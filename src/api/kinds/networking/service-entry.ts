/** PLACEHOLDER: replaced by the real schema of ServiceEntry in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const ServiceEntrySpec = z.looseObject({});
export type ServiceEntrySpec = z.output<typeof ServiceEntrySpec>;

export const ServiceEntry = defineKind({
  kind: 'ServiceEntry',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'serviceentries',
  shortNames: ['se'],
  spec: ServiceEntrySpec,
});
