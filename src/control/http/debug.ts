/**
 * Operational endpoints: `/ready`, `/metrics` and the `/debug/*` views (config in force with per-file
 * problems, the registry, per-proxy sync status, one proxy's xDS), named as istiod names them.
 */
import type { Registry as PromRegistry } from 'prom-client';
import type { RegistrySnapshot, Service } from '../../registry/index.ts';
import type { ConfigApi } from './resources.ts';
import { HttpError, type Reply, type Router } from './router.ts';

export interface DebugSources {
  readonly config: ConfigApi;
  /** The registry as of now. */
  readonly registry: () => RegistrySnapshot;
  /** Whether the control plane is ready to serve (config loaded, xDS listening). */
  readonly ready: () => boolean;
  readonly metrics: PromRegistry;
  /** Per-proxy sync status, as the control plane records it (`/debug/syncz`). */
  readonly syncz: () => unknown;
  /** The xDS resources one proxy gets, as JSON; undefined when no such proxy is connected. */
  readonly configDump: (proxyId: string) => unknown;
}

export function registerDebugRoutes(router: Router, src: DebugSources): void {
  router
    .add('GET', '/ready', () => (src.ready() ? { status: 200, json: { ready: true } } : { status: 503, json: { error: 'not ready', ready: false } }))
    .add('GET', '/metrics', async () => ({ status: 200, text: await src.metrics.metrics(), contentType: src.metrics.contentType }))
    .add('GET', '/debug/configz', () => ({ status: 200, json: configz(src.config) }))
    .add('GET', '/debug/registryz', () => ({ status: 200, json: registryz(src.registry()) }))
    .add('GET', '/debug/syncz', () => ({ status: 200, json: src.syncz() }))
    .add('GET', '/debug/config_dump', (req) => configDump(src, req.query.get('proxyID')));
}

function configz(config: ConfigApi): unknown {
  return {
    version: config.snapshot().version,
    resources: config.inForce().map((f) => ({ key: f.key, source: f.source, createdAt: f.createdAt, resource: f.resource })),
    problems: Object.fromEntries(config.problems()),
  };
}

function registryz(snap: RegistrySnapshot): unknown {
  return {
    version: snap.version,
    services: snap.services.map((s: Service) => ({
      ...s,
      ports: s.ports.map((p) => ({ ...p, endpoints: snap.endpoints(s, p.port) })),
    })),
    workloads: snap.workloads,
  };
}

function configDump(src: DebugSources, proxyId: string | null): Reply {
  if (proxyId === null || proxyId === '') throw new HttpError(400, 'PROXY_ID_REQUIRED', 'the proxyID query parameter is required (see /debug/syncz for connected proxies)');
  const dump = src.configDump(proxyId);
  if (dump === undefined) throw new HttpError(404, 'UNKNOWN_PROXY', `no connected proxy ${JSON.stringify(proxyId)} (see /debug/syncz for connected proxies)`);
  return { status: 200, json: dump };
}
