/**
 * PeerAuthentication (security.istio.io): whether a workload accepts plain text, mutual TLS or both,
 * mesh-wide, per namespace, per workload and per port.
 * https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
import * as z from 'zod';
import { obj, oneOf, rules } from '../../schema/object.ts';
import { showValue } from '../../errors.ts';
import { defineKind } from '../kind.ts';
import { PolicySelector } from './target-ref.ts';

export const MTLS_MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;

export const MutualTLS = obj({ mode: oneOf(MTLS_MODES).optional() });
export type MutualTLS = z.output<typeof MutualTLS>;

/** A `portLevelMtls` key: a port number written as a map key (YAML gives it to us as a string). */
function portKeyProblem(key: string): string | undefined {
  const n = /^\d+$/.test(key) ? Number(key) : NaN;
  return n >= 1 && n <= 65535 ? undefined : `port must be a number between 1 and 65535 (got ${showValue(key)})`;
}

export const PeerAuthenticationSpec = rules(
  obj({
    selector: PolicySelector.optional(),
    mtls: MutualTLS.optional(),
    portLevelMtls: z.record(z.string(), MutualTLS).optional(),
  }),
  (pa, report) => {
    if (pa.portLevelMtls === undefined) return;
    const ports = Object.keys(pa.portLevelMtls);
    if (ports.length === 0) report({ path: ['portLevelMtls'], message: 'must have at least one port when set' });
    for (const p of ports) {
      const problem = portKeyProblem(p);
      if (problem !== undefined) report({ path: ['portLevelMtls', p], message: problem });
    }
    // Ports are only known per workload, so mesh- and namespace-wide policies cannot use them.
    if (ports.length > 0 && Object.keys(pa.selector?.matchLabels ?? {}).length === 0) {
      report({ path: ['portLevelMtls'], message: 'portLevelMtls needs a selector with matchLabels: mesh-wide and namespace-wide policies cannot set per-port mTLS' });
    }
  },
);
export type PeerAuthenticationSpec = z.output<typeof PeerAuthenticationSpec>;

export const PeerAuthentication = defineKind({
  kind: 'PeerAuthentication',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  plural: 'peerauthentications',
  shortNames: ['pa'],
  spec: PeerAuthenticationSpec,
  specRequired: false,
});
