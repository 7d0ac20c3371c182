/** PLACEHOLDER: replaced by the real schema of WorkloadEntry in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const WorkloadEntrySpec = z.looseObject({});
export type WorkloadEntrySpec = z.output<typeof WorkloadEntrySpec>;

export const WorkloadEntry = defineKind({
  kind: 'WorkloadEntry',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'workloadentries',
  shortNames: ['we'],
  spec: WorkloadEntrySpec,
});
