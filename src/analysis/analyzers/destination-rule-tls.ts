/**
 * IST0128 / IST0129: a DestinationRule originating TLS (SIMPLE or MUTUAL) without caCertificates or a
 * credentialName does not verify the server's certificate: traffic is encrypted but not authenticated.
 */
import type { Analyzer } from '../analyzer.ts';
import { MSG } from '../messages.ts';

interface ClientTls { mode?: string; caCertificates?: string; credentialName?: string; insecureSkipVerify?: boolean }

function unverified(tls: ClientTls | undefined): tls is ClientTls {
  if (tls === undefined || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return false;
  return !tls.caCertificates && !tls.credentialName && tls.insecureSkipVerify !== true;
}

export const destinationRuleTls: Analyzer = {
  name: 'destination-rule-tls',
  description: 'DestinationRules that originate TLS verify the server certificate',
  run(ctx, report) {
    for (const dr of ctx.of('DestinationRule')) {
      const ns = dr.metadata.namespace;
      const tp = dr.spec.trafficPolicy;
      const tls = tp?.tls as ClientTls | undefined;
      if (unverified(tls)) {
        report({
          type: MSG.NoServerCertificateVerificationDestinationLevel, resource: dr, path: ['spec', 'trafficPolicy', 'tls'],
          message: `DestinationRule ${dr.metadata.name} in namespace ${ns} has TLS mode set to ${tls.mode} but no caCertificates are set to validate server identity for host: ${dr.spec.host}`,
        });
      }
      (tp?.portLevelSettings ?? []).forEach((pl, i) => {
        const ptls = pl.tls as ClientTls | undefined;
        if (!unverified(ptls)) return;
        report({
          type: MSG.NoServerCertificateVerificationPortLevel, resource: dr, path: ['spec', 'trafficPolicy', 'portLevelSettings', i, 'tls'],
          message: `DestinationRule ${dr.metadata.name} in namespace ${ns} has TLS mode set to ${ptls.mode} but no caCertificates are set to validate server identity for host: ${dr.spec.host} at port ${pl.port?.number ?? '?'}`,
        });
      });
    }
  },
};
