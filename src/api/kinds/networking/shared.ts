/**
 * Messages shared by several networking kinds: `Port`, `WorkloadSelector`, and the server-side
 * `ServerTLSSettings` (Gateway servers and Sidecar ingress listeners).
 * Reference: istio/api networking/v1alpha3/gateway.proto, sidecar.proto; rules from Istio's validation.go.
 */
import * as z from 'zod';
import { obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { intIn, port, str, uint32, selectorLabels } from '../../schema/primitives.ts';
import { PROTOCOL_NAMES, parseProtocol } from '../../protocol.ts';

/**
 * A Gateway / ServiceEntry port: `number`, `protocol`, `name` (`targetPort` is deprecated). Number 0 is
 * only meaningful for unix-socket binds; kinds check that rule where they know the bind.
 */
export const Port = rules(
  obj({ number: intIn(0, 65535), protocol: str(), name: str(), targetPort: uint32().optional() }),
  (p, report) => {
    if (parseProtocol(p.protocol) === undefined) {
      report({ path: ['protocol'], message: `unsupported protocol ${JSON.stringify(p.protocol)} (use one of ${PROTOCOL_NAMES.join(', ')})` });
    }
    if (p.name === '') report({ path: ['name'], message: 'port name must be set' });
  },
);
export type Port = z.output<typeof Port>;

export const WorkloadSelector = obj({ labels: selectorLabels().optional() });
export type WorkloadSelector = z.output<typeof WorkloadSelector>;

/** An empty workload selector selects the whole namespace: Istio accepts it with a warning. */
export function workloadSelectorRules(sel: WorkloadSelector | undefined, path: readonly (string | number)[], report: (i: RuleIssue) => void): void {
  if (sel === undefined) return;
  const labels = sel.labels ?? {};
  if (Object.keys(labels).length === 0) report({ path, severity: 'warning', message: 'workload selector has no labels: it selects every workload in the namespace' });
}

export const TLS_PROTOCOL_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

const ServerTLSCertificate = obj({
  serverCertificate: str().optional(),
  privateKey: str().optional(),
  caCertificates: str().optional(),
});

export const ServerTLSSettings = rules(
  obj({
    httpsRedirect: z.boolean().optional(),
    mode: oneOf(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']).optional(),
    serverCertificate: str().optional(),
    privateKey: str().optional(),
    caCertificates: str().optional(),
    caCrl: str().optional(),
    credentialName: str().optional(),
    caCertCredentialName: str().optional(),
    credentialNames: z.array(str()).max(2).optional(),
    tlsCertificates: z.array(ServerTLSCertificate).max(2).optional(),
    subjectAltNames: z.array(str()).optional(),
    verifyCertificateSpki: z.array(str()).optional(),
    verifyCertificateHash: z.array(str()).optional(),
    minProtocolVersion: oneOf(TLS_PROTOCOL_VERSIONS).optional(),
    maxProtocolVersion: oneOf(TLS_PROTOCOL_VERSIONS).optional(),
    cipherSuites: z.array(str()).optional(),
  }),
  (tls, report) => serverTlsRules(tls, report),
);
export type ServerTLSSettings = z.output<typeof ServerTLSSettings>;

const VERSION_ORDER: Readonly<Record<string, number>> = { TLSV1_0: 0, TLSV1_1: 1, TLSV1_2: 2, TLSV1_3: 3 };

function serverTlsRules(tls: ServerTLSSettings, report: (i: RuleIssue) => void): void {
  const mode = tls.mode ?? 'PASSTHROUGH';
  const min = tls.minProtocolVersion;
  const max = tls.maxProtocolVersion;
  if (min !== undefined && max !== undefined && min !== 'TLS_AUTO' && max !== 'TLS_AUTO' && VERSION_ORDER[min]! > VERSION_ORDER[max]!) {
    report({ path: ['maxProtocolVersion'], message: `maxProtocolVersion ${max} is lower than minProtocolVersion ${min}` });
  }
  if ((min === 'TLSV1_0' || min === 'TLSV1_1') && (tls.cipherSuites ?? []).length === 0) {
    report({ path: ['minProtocolVersion'], severity: 'warning', message: 'TLS versions below TLSV1_2 need cipherSuites set: the default ciphers no longer include compatible ones' });
  }
  const seen = new Set<string>();
  (tls.cipherSuites ?? []).forEach((c, i) => {
    if (seen.has(c)) report({ path: ['cipherSuites', i], severity: 'warning', message: `duplicate cipher suite ${JSON.stringify(c)} is ignored` });
    seen.add(c);
  });
  const certFields = ['serverCertificate', 'privateKey', 'caCertificates', 'credentialName'] as const;
  if (mode === 'ISTIO_MUTUAL') {
    for (const f of certFields) {
      if (tls[f]) report({ path: [f], message: `ISTIO_MUTUAL uses the mesh's own certificates and cannot have ${f}` });
    }
    return;
  }
  if (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') {
    if (certFields.some((f) => tls[f]) || tls.caCrl) {
      report({ severity: 'warning', message: `${mode} mode does not terminate TLS: its certificates are ignored` });
    }
    return;
  }
  const hasCredential = !!tls.credentialName || (tls.credentialNames ?? []).length > 0 || (tls.tlsCertificates ?? []).length > 0;
  if (tls.caCrl && tls.credentialName) report({ path: ['caCrl'], message: 'caCrl cannot be used with credentialName: put the CRL in the credential' });
  if (tls.caCrl && mode === 'SIMPLE') report({ path: ['caCrl'], message: 'caCrl is not supported with SIMPLE TLS (no client certificates are verified)' });
  if (hasCredential) return;
  if (!tls.serverCertificate) report({ path: ['serverCertificate'], message: `${mode} TLS needs serverCertificate (or credentialName)` });
  if (!tls.privateKey) report({ path: ['privateKey'], message: `${mode} TLS needs privateKey (or credentialName)` });
  if ((mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL') && !tls.caCertificates) {
    report({ path: ['caCertificates'], message: `${mode} TLS needs caCertificates to verify client certificates (or credentialName)` });
  }
}

export { port };
