/** PLACEHOLDER: replaced by the real schema of WorkloadGroup in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const WorkloadGroupSpec = z.looseObject({});
export type WorkloadGroupSpec = z.output<typeof WorkloadGroupSpec>;

export const WorkloadGroup = defineKind({
  kind: 'WorkloadGroup',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'workloadgroups',
  shortNames: ['wg'],
  spec: WorkloadGroupSpec,
});
