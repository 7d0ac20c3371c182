/**
 * What the apps read from their environment, with Istio bookinfo's names and defaults: the listen
 * port, the upstream services' URLs (`SERVICES_DOMAIN`, `<SERVICE>_HOSTNAME`,
 * `<SERVICE>_SERVICE_PORT`, as Istio's productpage.py and reviews' LibertyRestEndpoint.java read
 * them) and the pod identity shown in reviews' JSON. A bad value fails start-up with a message
 * naming the variable.
 */
import { hostname } from 'node:os';

export type Env = Readonly<Record<string, string | undefined>>;

export type UpstreamService = 'details' | 'reviews' | 'ratings';

const DEFAULT_PORT = 9080;

function set(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function parsePort(value: string, where: string, allowZero: boolean): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port <= 65535 && (port > 0 || (allowZero && port === 0)))) {
    throw new Error(`${where}: expected a port number ${allowZero ? '0' : '1'}-65535, got "${value}"`);
  }
  return port;
}

/**
 * The port to listen on: the first argument (Istio's apps take it so: `details.rb 9080`), else
 * `PORT` (what `weft run` sets), else 9080. 0 asks the OS for a free port.
 */
export function listenPort(env: Env, args: readonly string[]): number {
  const arg = args[0];
  if (arg !== undefined) return parsePort(arg, 'port argument', true);
  const fromEnv = set(env, 'PORT');
  return fromEnv === undefined ? DEFAULT_PORT : parsePort(fromEnv, 'PORT', true);
}

/** `http://<host><.SERVICES_DOMAIN>:<port>` for an upstream service, e.g. `http://reviews:9080`. */
export function serviceBaseUrl(service: UpstreamService, env: Env): string {
  const upper = service.toUpperCase();
  const host = set(env, `${upper}_HOSTNAME`) ?? service;
  const domain = set(env, 'SERVICES_DOMAIN');
  const portVar = `${upper}_SERVICE_PORT`;
  const portValue = set(env, portVar);
  const port = portValue === undefined ? DEFAULT_PORT : parsePort(portValue, portVar, false);
  return `http://${host}${domain === undefined ? '' : `.${domain}`}:${port}`;
}

/** The pod name reviews reports: `POD_NAME` (weft run), else `HOSTNAME` (what Istio's reads), else the host's. */
export function podName(env: Env): string {
  return set(env, 'POD_NAME') ?? set(env, 'HOSTNAME') ?? hostname();
}

/**
 * The cluster name reviews reports. Istio's Java app concatenates the unset variable, so its JSON
 * says `"clustername": "null"`; we keep that literal so outputs compare equal.
 */
export function clusterName(env: Env): string {
  return set(env, 'CLUSTER_NAME') ?? 'null';
}
