/**
 * CDS: the clusters a proxy needs. Outbound: one per visible service port (`outbound|port||host`) plus
 * one per DestinationRule subset (`outbound|port|subset|host`), typed by the service's resolution (EDS for
 * registry services and STATIC ServiceEntries, STRICT_DNS / LOGICAL_DNS for DNS entries, ORIGINAL_DST
 * for NONE). Inbound (sidecars): `inbound|port||` to the local app. Plus PassthroughCluster and
 * BlackHoleCluster. Pure functions of the push context and the proxy.
 */
import type { PushContext } from '../push/push-context.ts';
import type { Service, ServicePort } from '../../registry/model.ts';
import type { Proxy } from '../proxy.ts';
import { isHttpProtocol } from '../../api/index.ts';
import { TYPE } from '../../xds/type-urls.ts';
import { ADS_SOURCE, socketAddress } from './proto-values.ts';
import { jsToStruct } from '../../xds/protos.ts';
import { BLACKHOLE_CLUSTER, inboundCluster, outboundCluster, PASSTHROUGH_CLUSTER } from './names.ts';
import { clusterPolicyFields, DEFAULT_CONNECT_TIMEOUT, DEFAULT_LB, effectivePolicy } from './traffic-policy.ts';
import { inboundProtocol } from './inbound-protocol.ts';

export type EnvoyCluster = Record<string, unknown> & { name: string };

function istioMetadata(svc: Service, subset: string): Record<string, unknown> {
  return {
    filterMetadata: {
      istio: jsToStruct({
        services: [{ host: svc.hostname, name: svc.name, namespace: svc.namespace }],
        ...(subset ? { subset } : {}),
      }),
    },
  };
}

/** DNS clusters carry their endpoints inline: the ServiceEntry's endpoints, else the host itself. */
function dnsEndpoints(ctx: PushContext, svc: Service, port: ServicePort): Record<string, unknown>[] {
  const eps = ctx.registry.endpoints(svc, port.port);
  const targets = eps.length > 0
    ? eps.map((e) => ({ address: e.address, port: e.port, weight: e.weight }))
    : svc.hostname.includes('*') ? [] : [{ address: svc.hostname, port: typeof port.targetPort === 'number' ? port.targetPort : port.port, weight: 1 }];
  return targets.length === 0 ? [] : [{ lbEndpoints: targets.map((t) => ({ endpoint: { address: socketAddress(t.address, t.port) }, loadBalancingWeight: { value: t.weight } })) }];
}

/** Discovery fields by resolution: how the proxy learns this cluster's endpoints. */
function discovery(ctx: PushContext, svc: Service, port: ServicePort, name: string): Record<string, unknown> {
  switch (svc.resolution) {
    case 'NONE':
      return { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' };
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      // Endpoints come inline: the ServiceEntry's DNS endpoints, or the host itself.
      return {
        type: svc.resolution === 'DNS' ? 'STRICT_DNS' : 'LOGICAL_DNS',
        dnsLookupFamily: 'V4_PREFERRED',
        respectDnsTtl: true,
        loadAssignment: { clusterName: name, endpoints: dnsEndpoints(ctx, svc, port) },
      };
    default:
      return { type: 'EDS', edsClusterConfig: { edsConfig: ADS_SOURCE, serviceName: name } };
  }
}

function outboundClusters(ctx: PushContext, proxyNamespace: string, svc: Service, port: ServicePort, defaultLb: string): EnvoyCluster[] {
  const dr = serviceDestinationRule(ctx, proxyNamespace, svc);
  const http = isHttpProtocol(port.protocol);
  const http2 = port.protocol === 'HTTP2' || port.protocol === 'GRPC';
  const subsets = ['', ...(dr?.spec.subsets ?? []).map((s) => s.name)];
  return subsets.map((subset) => {
    const name = outboundCluster(port.port, subset, svc.hostname);
    const subsetPolicy = subset ? dr?.spec.subsets?.find((s) => s.name === subset)?.trafficPolicy : undefined;
    const policy = effectivePolicy(dr?.spec.trafficPolicy, subsetPolicy, port.port);
    const cluster: EnvoyCluster = {
      name,
      ...clusterPolicyFields(policy, { http, http2 }, defaultLb),
      ...discovery(ctx, svc, port, name),
      metadata: istioMetadata(svc, subset),
    };
    return cluster;
  });
}

/**
 * The names of `outboundClustersFor(ctx, proxy)` without building the clusters (the consistency pass
 * needs only names, and a routing change should not cost a rebuild of every cluster).
 */
export function outboundClusterNames(ctx: PushContext, proxy: Proxy): string[] {
  const scope = ctx.sidecarScope(proxy);
  const key = `cds-out-names|${proxy.namespace}|${scope.key}`;
  const cached = (ctx.memo.get(key) ?? ctx.carriedOver(key, TYPE.cluster)) as string[] | undefined;
  if (cached !== undefined) return cached;
  const out: string[] = [];
  for (const svc of ctx.visibleServices(proxy.namespace, scope)) {
    const dr = serviceDestinationRule(ctx, proxy.namespace, svc);
    const subsets = ['', ...(dr?.spec.subsets ?? []).map((s) => s.name)];
    for (const port of svc.ports) for (const subset of subsets) out.push(outboundCluster(port.port, subset, svc.hostname));
  }
  ctx.memo.set(key, out);
  return out;
}

/** Every outbound cluster for the services visible to `proxy` (shared by proxies with the same scope). */
export function outboundClustersFor(ctx: PushContext, proxy: Proxy): EnvoyCluster[] {
  const scope = ctx.sidecarScope(proxy);
  // A load balancer a DestinationRule leaves unset is LEAST_REQUEST (Istio's default since 1.14), but
  // ROUND_ROBIN for proxyless gRPC clients, whose xDS support (gRFC A27; @grpc/grpc-js-xds) refuses
  // LEAST_REQUEST and defaults to round robin itself.
  const grpc = proxy.kind === 'grpc';
  const key = `cds-out|${proxy.namespace}|${scope.key}${grpc ? '|grpc' : ''}`;
  // Carried over when the change cannot touch clusters (routing or endpoint changes, workloads joining):
  // the same objects keep their encodings, where rebuilt ones would each be fingerprinted again.
  const cached = (ctx.memo.get(key) ?? ctx.carriedOver(key, TYPE.cluster)) as EnvoyCluster[] | undefined;
  if (cached !== undefined) return cached;
  const out: EnvoyCluster[] = [];
  for (const svc of ctx.visibleServices(proxy.namespace, scope)) {
    for (const port of svc.ports) out.push(...outboundClusters(ctx, proxy.namespace, svc, port, grpc ? 'ROUND_ROBIN' : DEFAULT_LB));
  }
  ctx.memo.set(key, out);
  return out;
}

/** Upstream HTTP/2 (prior knowledge) for an inbound cluster whose port speaks HTTP/2 or gRPC, as Istio's. */
const INBOUND_HTTP2 = {
  typedExtensionProtocolOptions: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicitHttpConfig: { http2ProtocolOptions: {} },
    },
  },
};

/** `inbound|port||` clusters of a sidecar: every declared container port, to the local app port. */
export function inboundClustersFor(ctx: PushContext, proxy: Proxy): EnvoyCluster[] {
  return proxy.ports.map((p) => {
    const name = inboundCluster(p.containerPort);
    const appPort = proxy.appPorts.get(p.containerPort) ?? p.containerPort;
    const protocol = inboundProtocol(ctx, proxy, p.containerPort, p.name);
    return {
      name,
      type: 'STATIC',
      connectTimeout: DEFAULT_CONNECT_TIMEOUT,
      lbPolicy: 'ROUND_ROBIN',
      loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: socketAddress('127.0.0.1', appPort) } }] }] },
      ...(protocol === 'HTTP2' || protocol === 'GRPC' ? INBOUND_HTTP2 : {}),
    };
  });
}

/** Istio's two fixed clusters: pass traffic to where it was going, or drop it. */
export function fixedClusters(): EnvoyCluster[] {
  return [
    { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout: DEFAULT_CONNECT_TIMEOUT,
      originalDstLbConfig: { useHttpHeader: true, httpHeaderName: 'x-envoy-original-dst-host' } },
    { name: BLACKHOLE_CLUSTER, type: 'STATIC', connectTimeout: DEFAULT_CONNECT_TIMEOUT, loadAssignment: { clusterName: BLACKHOLE_CLUSTER, endpoints: [] } },
  ];
}

/** All clusters of a sidecar or gateway. */
export function clustersFor(ctx: PushContext, proxy: Proxy): EnvoyCluster[] {
  const inbound = proxy.kind === 'sidecar' ? inboundClustersFor(ctx, proxy) : [];
  return [...outboundClustersFor(ctx, proxy), ...inbound, ...fixedClusters()];
}

/** The DestinationRule for `svc` as a proxy in `namespace` sees it; none for wildcard entries (no cluster names them). */
export function serviceDestinationRule(ctx: PushContext, namespace: string, svc: Service): ReturnType<PushContext['destinationRule']> {
  return svc.hostname.includes('*') ? undefined : ctx.destinationRule(svc.hostname, namespace, svc.namespace);
}
