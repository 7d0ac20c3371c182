/**
 * Test helpers for HTTP route translation: VirtualServices from YAML (through the real validator), a
 * route context over a small fake registry, and encoding routes with the real Envoy protos.
 */
import assert from 'node:assert/strict';
import { parseConfig } from '../../../api/index.ts';
import { TYPE } from '../../../xds/type-urls.ts';
import { decodeResource, encodeResource, PROTO_FILES, protoRoot } from '../../../xds/protos.ts';
import type { EnvoyRoute, RouteContext, VirtualServiceResource } from './context.ts';

/** Parses one VirtualService (namespace `default` unless the YAML says otherwise); fails on any problem. */
export function virtualService(yaml: string): VirtualServiceResource {
  const set = parseConfig(yaml, 'test.yaml');
  const errors = set.problems.filter((p) => p.severity === 'error');
  assert.deepEqual(errors, [], 'the VirtualService must be valid');
  const vs = set.resources.find((r) => r.kind === 'VirtualService');
  assert.ok(vs !== undefined, 'no VirtualService in the YAML');
  return vs as VirtualServiceResource;
}

/** Services of the fake registry: FQDN → ports. Short names resolve in the VirtualService's namespace. */
const SERVICES: Readonly<Record<string, readonly number[]>> = {
  'reviews.default.svc.cluster.local': [9080],
  'ratings.default.svc.cluster.local': [9080],
  'productpage.default.svc.cluster.local': [9080],
  'details.default.svc.cluster.local': [9080],
  'multi.default.svc.cluster.local': [8080, 9090],
  'backend.other.svc.cluster.local': [8000],
  'grpc-echo.default.svc.cluster.local': [50051],
};

function fqdn(host: string, namespace: string): string {
  return host.includes('.') ? host : `${host}.${namespace}.svc.cluster.local`;
}

export function context(over: Partial<RouteContext> = {}, delegates: readonly VirtualServiceResource[] = []): RouteContext {
  const listenerPort = over.listenerPort ?? 9080;
  return {
    proxy: { namespace: 'default', labels: { app: 'productpage', version: 'v1' }, kind: 'sidecar' },
    listenerPort,
    clusterFor: (dest, ns) => {
      const host = fqdn(dest.host, ns);
      const ports = SERVICES[host];
      if (ports === undefined) return undefined;
      const port = dest.port ?? (ports.length === 1 ? ports[0] : listenerPort);
      return `outbound|${port}|${dest.subset ?? ''}|${host}`;
    },
    consistentHash: () => undefined,
    delegate: (name, namespace) => delegates.find((d) => d.metadata.name === name && d.metadata.namespace === namespace),
    ...over,
  };
}

const RETRY_PROTOS = [
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
];

/** The retry extension protos that routes reference (in Any) but src/xds/protos.ts does not list. */
export function missingRetryProtos(): string[] {
  return RETRY_PROTOS.filter((f) => !PROTO_FILES.includes(f));
}

let extraLoaded = false;
function ensureRetryProtos(): void {
  if (extraLoaded) return;
  // Until src/xds/protos.ts lists them, load them here so the other encode checks still run. Looked up
  // on the root directly: findMessageType would remember a miss.
  const missing = missingRetryProtos();
  if (missing.length > 0) protoRoot().loadSync(missing, { keepCase: false });
  extraLoaded = true;
}

/** Encodes the routes in a RouteConfiguration/VirtualHost with the real protos and decodes them back. */
export function encodeRoutes(routes: readonly EnvoyRoute[]): Record<string, unknown> {
  ensureRetryProtos();
  const config = { name: '9080', virtualHosts: [{ name: 'test', domains: ['*'], routes }] };
  return decodeResource(TYPE.route, encodeResource(TYPE.route, config));
}
