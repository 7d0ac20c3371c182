/**
 * ClientTLSSettings: how a sidecar or gateway originates TLS to an upstream (DestinationRule traffic
 * policies, port-level settings). https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings
 */
import * as z from 'zod';
import { obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { bool, str } from '../../schema/primitives.ts';

export const CLIENT_TLS_MODES = ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const;

export const ClientTLSSettings = rules(
  obj({
    mode: oneOf(CLIENT_TLS_MODES).optional(),
    clientCertificate: str().optional(),
    privateKey: str().optional(),
    caCertificates: str().optional(),
    credentialName: str().optional(),
    subjectAltNames: z.array(str()).optional(),
    sni: str().optional(),
    insecureSkipVerify: bool().optional(),
    caCrl: str().optional(),
  }),
  (tls, report) => clientTlsRules(tls, report),
);
export type ClientTLSSettings = z.output<typeof ClientTLSSettings>;

const FILE_FIELDS = ['clientCertificate', 'privateKey', 'caCertificates', 'caCrl'] as const;

function clientTlsRules(tls: ClientTLSSettings, report: (i: RuleIssue) => void): void {
  const mode = tls.mode ?? 'DISABLE';
  if (tls.insecureSkipVerify === true) insecureSkipVerifyRules(tls, mode, report);
  if (mode === 'ISTIO_MUTUAL') {
    // The mesh's own certificates are used; files and secrets given here would be silently ignored.
    for (const f of ['clientCertificate', 'privateKey', 'caCertificates', 'credentialName'] as const) {
      if (tls[f]) report({ path: [f], severity: 'warning', message: `ISTIO_MUTUAL uses the mesh's own certificates: ${f} is ignored` });
    }
    return;
  }
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && tls.credentialName) {
    for (const f of FILE_FIELDS) {
      if (tls[f]) report({ path: [f], message: `${f} cannot be set together with credentialName ${JSON.stringify(tls.credentialName)}: the secret holds the certificates` });
    }
    return;
  }
  if (mode === 'MUTUAL') {
    if (!tls.clientCertificate) report({ path: ['clientCertificate'], message: 'MUTUAL TLS needs clientCertificate (or credentialName)' });
    if (!tls.privateKey) report({ path: ['privateKey'], message: 'MUTUAL TLS needs privateKey (or credentialName)' });
  }
}

/** Skipping verification contradicts any setting whose only purpose is verifying the server. */
function insecureSkipVerifyRules(tls: ClientTLSSettings, mode: string, report: (i: RuleIssue) => void): void {
  const why = 'cannot be set when insecureSkipVerify is true (the server certificate is not verified)';
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL') return;
  if (tls.caCertificates) report({ path: ['caCertificates'], message: `caCertificates ${why}` });
  if ((tls.subjectAltNames ?? []).length > 0) report({ path: ['subjectAltNames'], message: `subjectAltNames ${why}` });
  if (mode === 'SIMPLE' && tls.credentialName) report({ path: ['credentialName'], message: `credentialName ${why}` });
}
