/**
 * The environment `weft run` gives the app: where to listen (`PORT`), how to reach the mesh (its
 * sidecar's outbound listener as `HTTP_PROXY`, which curl, Python, Go and Node with
 * `NODE_USE_ENV_PROXY=1` honour), what must not go through the proxy (loopback), and who it is
 * (`POD_NAME`, `POD_NAMESPACE`, `SERVICE_ACCOUNT`, as Kubernetes' downward API gives pods).
 */

export interface AppIdentity {
  /** The workload name, given to the app as `POD_NAME`. */
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The sidecar's address (the workload's "pod IP"). */
  readonly ip: string;
  /** The sidecar's outbound listener port (15001). */
  readonly outboundPort: number;
  /** Where the app should listen on 127.0.0.1, if it serves. */
  readonly appPort?: number;
}

/** Loopback names and addresses the app reaches directly, never through its sidecar. */
export const NO_PROXY = 'localhost,.localhost,127.0.0.1,::1';

/** Variables an app environment inherits from the parent that would point it at another proxy. */
const PROXY_VARS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/** `base` (usually `process.env`) plus what `weft run` sets; weft's own values win. */
export function appEnvironment(base: NodeJS.ProcessEnv, id: AppIdentity): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const v of PROXY_VARS) delete env[v];
  // The allocator bin/weft.js preloaded into this process (the sidecar) is not the app's to inherit.
  const preloaded = env.WEFT_PRELOADED_MALLOC;
  delete env.WEFT_PRELOADED_MALLOC;
  if (preloaded !== undefined && env.LD_PRELOAD === preloaded) delete env.LD_PRELOAD;
  const host = id.ip.includes(':') ? `[${id.ip}]` : id.ip;
  const proxy = `http://${host}:${id.outboundPort}`;
  Object.assign(env, {
    HTTP_PROXY: proxy,
    http_proxy: proxy,
    NO_PROXY,
    no_proxy: NO_PROXY,
    NODE_USE_ENV_PROXY: '1',
    POD_NAME: id.name,
    POD_NAMESPACE: id.namespace,
    SERVICE_ACCOUNT: id.serviceAccount,
    INSTANCE_IP: id.ip,
  });
  if (id.appPort !== undefined) env.PORT = String(id.appPort);
  else delete env.PORT;
  return env;
}
