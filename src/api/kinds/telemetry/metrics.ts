/**
 * Telemetry `metrics`: which metrics providers get Istio's standard metrics, how often they are
 * reported, and per-metric overrides that disable metrics or add, change or remove their tags.
 * https://istio.io/latest/docs/reference/config/telemetry/#Metrics
 */
import * as z from 'zod';
import { atMostOne, obj, oneOf, rules } from '../../schema/object.ts';
import { bool, duration, nonEmpty, str } from '../../schema/primitives.ts';
import { ProviderRef, WORKLOAD_MODES } from './shared.ts';

export const ISTIO_METRICS = [
  'ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE', 'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES', 'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
] as const;

/** Which metric an override applies to: a standard one, or a custom metric by name. */
export const MetricSelector = rules(
  obj({
    metric: oneOf(ISTIO_METRICS).optional(),
    customMetric: nonEmpty().optional(),
    mode: oneOf(WORKLOAD_MODES).optional(),
  }),
  (m, report) => atMostOne(m, ['metric', 'customMetric'], report),
);
export type MetricSelector = z.output<typeof MetricSelector>;

/** UPSERT (the default operation) sets the tag to the CEL expression in `value`; REMOVE drops the tag. */
export const TagOverride = rules(
  obj({
    operation: oneOf(['UPSERT', 'REMOVE']).optional(),
    value: str().optional(),
  }),
  (t, report) => {
    const op = t.operation ?? 'UPSERT';
    if (op === 'UPSERT' && (t.value ?? '') === '') {
      report({ path: ['value'], message: `value is required when operation is UPSERT${t.operation === undefined ? ' (the default)' : ''}` });
    }
    if (op === 'REMOVE' && t.value !== undefined) report({ path: ['value'], message: 'value must not be set when operation is REMOVE' });
  },
);
export type TagOverride = z.output<typeof TagOverride>;

export const MetricsOverrides = rules(
  obj({
    match: MetricSelector.optional(),
    disabled: bool().nullable().optional(),
    tagOverrides: z.record(z.string(), TagOverride).optional(),
  }),
  (o, report) => {
    if (o.tagOverrides !== undefined && '' in o.tagOverrides) {
      report({ path: ['tagOverrides', ''], severity: 'warning', message: 'tag names should not be empty' });
    }
  },
);
export type MetricsOverrides = z.output<typeof MetricsOverrides>;

export const Metrics = obj({
  providers: z.array(ProviderRef).optional(),
  overrides: z.array(MetricsOverrides).optional(),
  reportingInterval: duration({ min: '1ms' }).optional(),
});
export type Metrics = z.output<typeof Metrics>;
