/**
 * The analysis message catalogue. Codes and names are Istio's (istio/istio
 * pkg/config/analysis/msg/messages.yaml) wherever the meaning is the same, so users can search for
 * them; wording is weft's own, and states the fix where there is one.
 */

export type Level = 'Error' | 'Warning' | 'Info';

export interface MessageType {
  readonly code: string;
  readonly name: string;
  readonly level: Level;
}

const t = (code: string, name: string, level: Level): MessageType => ({ code, name, level });

export const MSG = {
  ReferencedResourceNotFound: t('IST0101', 'ReferencedResourceNotFound', 'Error'),
  SchemaValidationError: t('IST0106', 'SchemaValidationError', 'Error'),
  ConflictingMeshGatewayVirtualServiceHosts: t('IST0109', 'ConflictingMeshGatewayVirtualServiceHosts', 'Error'),
  ConflictingSidecarWorkloadSelectors: t('IST0110', 'ConflictingSidecarWorkloadSelectors', 'Error'),
  MultipleSidecarsWithoutWorkloadSelectors: t('IST0111', 'MultipleSidecarsWithoutWorkloadSelectors', 'Error'),
  VirtualServiceDestinationPortSelectorRequired: t('IST0112', 'VirtualServiceDestinationPortSelectorRequired', 'Error'),
  MTLSPolicyConflict: t('IST0113', 'MTLSPolicyConflict', 'Error'),
  PortNameIsNotUnderNamingConvention: t('IST0118', 'PortNameIsNotUnderNamingConvention', 'Info'),
  NoMatchingWorkloadsFound: t('IST0127', 'NoMatchingWorkloadsFound', 'Warning'),
  NoServerCertificateVerificationDestinationLevel: t('IST0128', 'NoServerCertificateVerificationDestinationLevel', 'Warning'),
  NoServerCertificateVerificationPortLevel: t('IST0129', 'NoServerCertificateVerificationPortLevel', 'Warning'),
  VirtualServiceUnreachableRule: t('IST0130', 'VirtualServiceUnreachableRule', 'Warning'),
  VirtualServiceIneffectiveMatch: t('IST0131', 'VirtualServiceIneffectiveMatch', 'Info'),
  VirtualServiceHostNotFoundInGateway: t('IST0132', 'VirtualServiceHostNotFoundInGateway', 'Warning'),
  SchemaWarning: t('IST0133', 'SchemaWarning', 'Warning'),
  ServiceEntryAddressesRequired: t('IST0134', 'ServiceEntryAddressesRequired', 'Warning'),
  ConflictingGateways: t('IST0145', 'ConflictingGateways', 'Error'),
  JwtClaimBasedRoutingWithoutRequestAuthN: t('IST0149', 'JwtClaimBasedRoutingWithoutRequestAuthN', 'Error'),
  ConflictingTelemetryWorkloadSelectors: t('IST0159', 'ConflictingTelemetryWorkloadSelectors', 'Error'),
  MultipleTelemetriesWithoutWorkloadSelectors: t('IST0160', 'MultipleTelemetriesWithoutWorkloadSelectors', 'Error'),
} as const satisfies Record<string, MessageType>;

/** One finding, placed on a resource and (when known) its file, line and field. */
export interface Diagnostic {
  readonly type: MessageType;
  readonly message: string;
  /** `Kind namespace/name`. */
  readonly resource?: string;
  readonly file?: string;
  readonly line?: number;
  /** Dotted path of the field the finding is about. */
  readonly field?: string;
}

/** istioctl's one-line format: `Error [IST0101] (VirtualService default/reviews reviews.yaml:9) message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.resource, d.file !== undefined ? `${d.file}${d.line ? `:${d.line}` : ''}` : undefined].filter((x) => x !== undefined).join(' ');
  return `${d.type.level} [${d.type.code}]${where ? ` (${where})` : ''} ${d.message}`;
}

const RANK: Readonly<Record<Level, number>> = { Error: 0, Warning: 1, Info: 2 };

/** Whether `level` is at least as severe as `threshold` (`--output-threshold`, `--failure-threshold`). */
export function atLeast(level: Level, threshold: Level): boolean {
  return RANK[level] <= RANK[threshold];
}
