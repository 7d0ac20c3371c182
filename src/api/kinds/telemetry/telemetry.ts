/** PLACEHOLDER: replaced by the real schema of Telemetry in this session. */
import * as z from 'zod';
import { defineKind } from '../kind.ts';

export const TelemetrySpec = z.looseObject({});
export type TelemetrySpec = z.output<typeof TelemetrySpec>;

export const Telemetry = defineKind({
  kind: 'Telemetry',
  group: 'telemetry.istio.io',
  versions: ['v1', 'v1alpha1'],
  plural: 'telemetries',
  shortNames: ['telemetry'],
  spec: TelemetrySpec,
});
