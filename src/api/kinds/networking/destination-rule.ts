/** PLACEHOLDER: replaced by the real schema of DestinationRule in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const DestinationRuleSpec = z.looseObject({});
export type DestinationRuleSpec = z.output<typeof DestinationRuleSpec>;

export const DestinationRule = defineKind({
  kind: 'DestinationRule',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'destinationrules',
  shortNames: ['dr'],
  spec: DestinationRuleSpec,
});
