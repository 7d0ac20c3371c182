/**
 * Telemetry `tracing`: which tracing providers receive spans, the sampling rate, and custom tags taken
 * from literals, environment variables or request headers.
 * https://istio.io/latest/docs/reference/config/telemetry/#Tracing
 */
import * as z from 'zod';
import { atMostOne, obj, rules } from '../../schema/object.ts';
import { bool, nonEmpty, numIn, str } from '../../schema/primitives.ts';
import { ProviderRef, WorkloadModeSelector } from './shared.ts';

const Literal = obj({ value: nonEmpty() });
const Environment = obj({ name: nonEmpty(), defaultValue: str().optional() });
const RequestHeader = obj({ name: nonEmpty(), defaultValue: str().optional() });

export const CustomTag = rules(
  obj({
    literal: Literal.optional(),
    environment: Environment.optional(),
    header: RequestHeader.optional(),
  }),
  (t, report) => {
    atMostOne(t, ['literal', 'environment', 'header'], report);
    if (t.literal === undefined && t.environment === undefined && t.header === undefined) {
      report({ severity: 'warning', message: 'custom tag sets none of literal, environment, header: it adds nothing to spans' });
    }
  },
);
export type CustomTag = z.output<typeof CustomTag>;

/** Wrapped protobuf values (BoolValue, DoubleValue) accept null as "unset". */
export const Tracing = rules(
  obj({
    match: WorkloadModeSelector.optional(),
    providers: z.array(ProviderRef).optional(),
    randomSamplingPercentage: numIn(0, 100).nullable().optional(),
    disableSpanReporting: bool().nullable().optional(),
    customTags: z.record(z.string(), CustomTag).optional(),
    useRequestIdForTraceSampling: bool().nullable().optional(),
    enableIstioTags: bool().nullable().optional(),
  }),
  (t, report) => {
    if ((t.providers ?? []).length > 1) {
      report({ path: ['providers'], severity: 'warning', message: `only one tracing provider is supported per workload (got ${t.providers!.length}); the others are ignored` });
    }
    if (t.customTags !== undefined && '' in t.customTags) report({ path: ['customTags', ''], message: 'tag names must not be empty' });
  },
);
export type Tracing = z.output<typeof Tracing>;
