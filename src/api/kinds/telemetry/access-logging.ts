/**
 * Telemetry `accessLogging`: which access-log providers write logs, whether logging is off, and a CEL
 * filter selecting the requests or connections to log.
 * https://istio.io/latest/docs/reference/config/telemetry/#AccessLogging
 */
import * as z from 'zod';
import { check, obj } from '../../schema/object.ts';
import { bool, str } from '../../schema/primitives.ts';
import { celSyntaxProblem } from './cel.ts';
import { ProviderRef, WorkloadModeSelector } from './shared.ts';

/** Istio parses the expression whenever a filter is present, so an absent one is an error, not "log all". */
export const AccessLoggingFilter = obj({ expression: check(str(), celSyntaxProblem) });
export type AccessLoggingFilter = z.output<typeof AccessLoggingFilter>;

export const AccessLogging = obj({
  match: WorkloadModeSelector.optional(),
  providers: z.array(ProviderRef).optional(),
  disabled: bool().nullable().optional(),
  filter: AccessLoggingFilter.optional(),
});
export type AccessLogging = z.output<typeof AccessLogging>;
