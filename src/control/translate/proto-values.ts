/** Small builders for recurring protobuf values in generated xDS (durations, percents, addresses, Any). */
import { parseDuration } from '../../api/index.ts';

/** google.protobuf.Duration from milliseconds. */
export function durationMs(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** google.protobuf.Duration from a config duration string (`1.5s`), or undefined when absent. */
export function duration(text: string | undefined): { seconds: number; nanos: number } | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  return ms === undefined ? undefined : durationMs(ms);
}

export function socketAddress(address: string, port: number): { socketAddress: { address: string; portValue: number } } {
  return { socketAddress: { address, portValue: port } };
}

/** A typed_config / Any value in protobufjs's `@type` form. */
export function typed(typeName: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { '@type': `type.googleapis.com/${typeName}`, ...fields };
}

/** ADS as the config source of RDS/EDS/CDS references. */
export const ADS_SOURCE = { ads: {}, resourceApiVersion: 'V3' } as const;

/** envoy.type.v3.FractionalPercent from an Istio percentage (0–100, fractional). */
export function fractionalPercent(percent: number): { numerator: number; denominator: string } {
  return { numerator: Math.round(percent * 10_000), denominator: 'MILLION' };
}
