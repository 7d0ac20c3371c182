/**
 * IST0134: a ServiceEntry with TCP (or unspecified-protocol) ports and no `addresses`. Without an
 * address, plain TCP traffic cannot be told apart by destination, so a proxy cannot route it to this
 * entry (HTTP and TLS carry a Host/SNI and do not need one).
 */
import type { Analyzer } from '../analyzer.ts';
import { MSG } from '../messages.ts';
import { parseProtocol } from '../../api/index.ts';

export const serviceEntryAddresses: Analyzer = {
  name: 'service-entry-addresses',
  description: 'ServiceEntries with TCP ports have addresses',
  run(ctx, report) {
    for (const se of ctx.of('ServiceEntry')) {
      if ((se.spec.addresses ?? []).length > 0 || se.spec.resolution === 'NONE' && (se.spec.hosts ?? []).every((h) => h === '*')) continue;
      const tcp = (se.spec.ports ?? []).findIndex((p) => {
        const proto = p.protocol === undefined || p.protocol === '' ? undefined : parseProtocol(p.protocol);
        return proto === undefined || proto === 'TCP' || proto === 'Mongo' || proto === 'MySQL' || proto === 'Redis';
      });
      if (tcp < 0) continue;
      report({ type: MSG.ServiceEntryAddressesRequired, resource: se, path: ['spec', 'ports', tcp], message: 'ServiceEntry addresses are required for this protocol: TCP traffic is routed by destination address, so set spec.addresses (or use HTTP/TLS ports, which route by host).' });
    }
  },
};
