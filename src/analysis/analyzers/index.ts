/** Every built-in analyzer, in the order they run. Adding one: write its module and list it here. */
import type { Analyzer } from '../analyzer.ts';
import { destinationHost } from './destination-host.ts';
import { gatewayRefs } from './gateway-refs.ts';
import { meshHostConflicts } from './mesh-host-conflicts.ts';
import { routeReachability } from './route-reachability.ts';
import { mtlsConflict } from './mtls-conflict.ts';
import { destinationRuleTls } from './destination-rule-tls.ts';
import { workloadSelectors } from './workload-selectors.ts';
import { servicePorts } from './service-ports.ts';
import { gatewayConflicts } from './gateway-conflicts.ts';
import { serviceEntryAddresses } from './service-entry-addresses.ts';

export const ANALYZERS: readonly Analyzer[] = [
  destinationHost, gatewayRefs, meshHostConflicts, routeReachability, mtlsConflict, destinationRuleTls,
  workloadSelectors, servicePorts, gatewayConflicts, serviceEntryAddresses,
];
