/**
 * EDS: the endpoints of an outbound cluster — the registry's endpoints of the service port, filtered by
 * the DestinationRule subset's labels, grouped by locality. The same for every proxy that sees the same
 * DestinationRule, so results are memoized per push context.
 */
import type { PushContext } from '../push/push-context.ts';
import type { Endpoint } from '../../registry/model.ts';
import { parseOutboundCluster } from './names.ts';
import { socketAddress } from './proto-values.ts';
import { jsToStruct } from '../../xds/protos.ts';
import { selects } from '../../api/index.ts';

export type ClusterLoadAssignment = Record<string, unknown> & { clusterName: string };


function localityOf(e: Endpoint): { region?: string; zone?: string; subZone?: string } {
  if (e.locality === undefined) return {};
  const [region, zone, subZone] = e.locality.split('/');
  return { ...(region ? { region } : {}), ...(zone ? { zone } : {}), ...(subZone ? { subZone } : {}) };
}

function lbEndpoint(e: Endpoint): Record<string, unknown> {
  return {
    endpoint: { address: socketAddress(e.address, e.port) },
    healthStatus: e.healthy ? 'HEALTHY' : 'UNHEALTHY',
    loadBalancingWeight: { value: e.weight },
    metadata: { filterMetadata: { istio: jsToStruct({ workload: `${e.workload};${e.namespace}` }) } },
  };
}

/** The endpoints behind `outbound|port|subset|host` as seen from `proxyNamespace`. */
export function loadAssignment(ctx: PushContext, clusterName: string, proxyNamespace: string): ClusterLoadAssignment {
  const key = `eds|${clusterName}|${proxyNamespace}`;
  const cached = ctx.memo.get(key) as ClusterLoadAssignment | undefined;
  if (cached !== undefined) return cached;
  const parsed = parseOutboundCluster(clusterName);
  // An endpoint-only push keeps the previous assignment object for hosts that did not change, so its
  // encoding (cached by identity) is reused and its version stays the same.
  const previous = parsed === undefined ? undefined : ctx.previousFor(key, parsed.host) as ClusterLoadAssignment | undefined;
  if (previous !== undefined) return previous;
  const result: ClusterLoadAssignment = { clusterName, endpoints: [] };
  if (parsed !== undefined) {
    let selected: Endpoint[] = [];
    for (const svc of ctx.registry.servicesByHost(parsed.host)) selected.push(...ctx.registry.endpoints(svc, parsed.port));
    if (parsed.subset !== '') {
      const svcNs = ctx.registry.servicesByHost(parsed.host)[0]?.namespace ?? proxyNamespace;
      const dr = ctx.destinationRule(parsed.host, proxyNamespace, svcNs);
      const labels = dr?.spec.subsets?.find((s) => s.name === parsed.subset)?.labels;
      selected = labels === undefined ? [] : selected.filter((e) => selects(labels, e.labels));
    }
    const byLocality = new Map<string, Endpoint[]>();
    for (const e of selected) {
      const list = byLocality.get(e.locality ?? '');
      if (list === undefined) byLocality.set(e.locality ?? '', [e]);
      else list.push(e);
    }
    // Locality weights are the sum of their endpoints' weights, as Istio sets them: gRPC's xDS balancer
    // ignores a locality without a weight (gRFC A27), and Envoy uses them with locality-weighted LB.
    result.endpoints = [...byLocality.values()].map((eps) => ({
      locality: localityOf(eps[0]!),
      lbEndpoints: eps.map(lbEndpoint),
      loadBalancingWeight: { value: eps.reduce((sum, e) => sum + e.weight, 0) },
    }));
  }
  ctx.memo.set(key, result);
  return result;
}
