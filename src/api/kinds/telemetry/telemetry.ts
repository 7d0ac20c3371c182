/**
 * Telemetry (telemetry.istio.io): tracing, metrics and access logging for the workloads it selects,
 * mesh-wide (root namespace), per namespace or per workload / target.
 * https://istio.io/latest/docs/reference/config/telemetry/
 */
import * as z from 'zod';
import { obj, rules } from '../../schema/object.ts';
import { defineKind } from '../kind.ts';
import { policyTargetFields, policyTargetRules } from '../security/target-ref.ts';
import { AccessLogging } from './access-logging.ts';
import { Metrics } from './metrics.ts';
import { Tracing } from './tracing.ts';

export const TelemetrySpec = rules(
  obj({
    ...policyTargetFields,
    tracing: z.array(Tracing).optional(),
    metrics: z.array(Metrics).optional(),
    accessLogging: z.array(AccessLogging).optional(),
  }),
  (t, report) => {
    policyTargetRules(t, report);
    if ((t.tracing ?? []).length > 1) {
      report({ path: ['tracing'], severity: 'warning', message: `only one tracing configuration is supported (got ${t.tracing!.length}); list providers in a single entry` });
    }
  },
);
export type TelemetrySpec = z.output<typeof TelemetrySpec>;

export const Telemetry = defineKind({
  kind: 'Telemetry',
  group: 'telemetry.istio.io',
  versions: ['v1', 'v1alpha1'],
  plural: 'telemetries',
  shortNames: ['telemetry'],
  spec: TelemetrySpec,
  specRequired: false,
});
