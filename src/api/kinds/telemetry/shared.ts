/**
 * Pieces shared by Telemetry's tracing, metrics and access logging: the reference to an extension
 * provider declared in MeshConfig, and the traffic direction a setting applies to.
 * https://istio.io/latest/docs/reference/config/telemetry/#ProviderRef
 */
import * as z from 'zod';
import { obj, oneOf } from '../../schema/object.ts';
import { nonEmpty } from '../../schema/primitives.ts';

/** The name of an extension provider (`prometheus`, `otel`, `envoy`...) from MeshConfig's extensionProviders. */
export const ProviderRef = obj({ name: nonEmpty() });
export type ProviderRef = z.output<typeof ProviderRef>;

export const WORKLOAD_MODES = ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'] as const;

/** `match.mode`: whether a setting applies to outbound (CLIENT), inbound (SERVER) or both directions. */
export const WorkloadModeSelector = obj({ mode: oneOf(WORKLOAD_MODES).optional() });
export type WorkloadModeSelector = z.output<typeof WorkloadModeSelector>;
