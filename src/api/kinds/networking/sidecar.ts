/** PLACEHOLDER: replaced by the real schema of Sidecar in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const SidecarSpec = z.looseObject({});
export type SidecarSpec = z.output<typeof SidecarSpec>;

export const Sidecar = defineKind({
  kind: 'Sidecar',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'sidecars',
  shortNames: [],
  spec: SidecarSpec,
});
