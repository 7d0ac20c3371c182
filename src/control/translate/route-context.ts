/**
 * Builds the `RouteContext` HTTP route translation needs from the push context: how a VirtualService
 * destination becomes a cluster name (`outbound|port|subset|host`), the consistent hash its
 * DestinationRule asks for, and delegate lookup.
 */
import type { PushContext } from '../push/push-context.ts';
import type { Proxy } from '../proxy.ts';
import type { Service } from '../../registry/model.ts';
import type { RouteContext } from './http/context.ts';
import { destinationConsistentHash, serviceConsistentHash, type ConsistentHash } from './http/consistent-hash.ts';
import { outboundCluster } from './names.ts';
import { serviceDestinationRule } from './clusters.ts';

export function routeContext(ctx: PushContext, proxy: Proxy, listenerPort: number, gateway?: string): RouteContext {
  return {
    proxy: { namespace: proxy.namespace, labels: proxy.labels, kind: proxy.kind },
    ...(gateway !== undefined ? { gateway } : {}),
    listenerPort,
    clusterFor: (dest, vsNamespace) => {
      const svc = ctx.service(dest.host, vsNamespace);
      if (svc === undefined) return undefined;
      const port = dest.port
        ?? (svc.ports.length === 1 ? svc.ports[0]!.port : svc.ports.find((p) => p.port === listenerPort)?.port);
      if (port === undefined) return undefined;
      // A destination on a wildcard ServiceEntry uses the entry's cluster (`outbound|443||*.example.com`), as Istio.
      return outboundCluster(port, dest.subset ?? '', svc.hostname);
    },
    consistentHash: (dest, vsNamespace) => {
      const svc = ctx.service(dest.host, vsNamespace);
      return svc === undefined ? undefined : destinationConsistentHash(destinationRuleSpec(ctx, proxy, svc), dest);
    },
    delegate: (name, namespace) => ctx.delegate(name, namespace),
  };
}

/** The consistent hash for the default route of `svc` on `port` (a service without VirtualService). */
export function defaultRouteHash(ctx: PushContext, proxy: Proxy, svc: Service, port: number): ConsistentHash | undefined {
  return serviceConsistentHash(destinationRuleSpec(ctx, proxy, svc), port);
}

/** The rule the proxy's clusters for `svc` were built from. */
function destinationRuleSpec(ctx: PushContext, proxy: Proxy, svc: Service) {
  return serviceDestinationRule(ctx, proxy.namespace, svc)?.spec;
}
