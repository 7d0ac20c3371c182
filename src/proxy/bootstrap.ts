/**
 * The proxy's bootstrap: who it is and where its control plane is, from command-line flags and
 * environment variables, turned into the xDS node its first ADS request carries. The node follows
 * Istio's conventions exactly as the control plane reads them (`parseProxy`): id
 * `sidecar~<ip>~<name>.<ns>~<ns>.svc.cluster.local` (`router~` for gateways) and Istio's metadata keys
 * (`src/xds/node-metadata.ts`), so the control plane registers the workload from it.
 *
 * Sources, highest precedence first: flags, then environment, then defaults.
 *
 * | flag | environment | default |
 * |---|---|---|
 * | `--control HOST:PORT` | `WEFT_CONTROL` | `127.0.0.1:15010` |
 * | `--name NAME` | `WEFT_NAME` | required |
 * | `--namespace NS` | `WEFT_NAMESPACE`, `POD_NAMESPACE` | `default` |
 * | `--service-account SA` | `WEFT_SERVICE_ACCOUNT`, `SERVICE_ACCOUNT` | `default` |
 * | `--labels k=v,…` | `WEFT_LABELS` | none |
 * | `--ip ADDR` (sidecar) | `WEFT_IP`, `INSTANCE_IP` | a free `127.0.1.x` (Linux), else `127.0.0.1` |
 * | `--bind ADDR` (gateway) | `WEFT_BIND` | `127.0.0.1` |
 * | `--port PORT[:APP_PORT]` (repeatable) | `WEFT_PORTS` (comma-separated) | none |
 * | `--locality region/zone/subzone` | `WEFT_LOCALITY` | none |
 * | `--initial-fetch-timeout MS` | `WEFT_INITIAL_FETCH_TIMEOUT_MS` | `15000` |
 *
 * `ISTIO_META_<KEY>=value` adds metadata `<KEY>` as Istio's agent does; keys weft sets itself win.
 */

import { readFileSync } from 'node:fs';
import { isIP, createServer } from 'node:net';
import { platform } from 'node:os';
import { META } from '../xds/node-metadata.ts';
import { jsToStruct } from '../xds/protos.ts';
import { BootstrapError } from './xds/errors.ts';
import type { NodeProto } from './xds/wire.ts';

export type ProxyKind = 'sidecar' | 'router';

/** Flags as the CLI parsed them (strings, unvalidated). */
export interface ProxyFlags {
  readonly control?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly labels?: string;
  readonly ip?: string;
  readonly bind?: string;
  readonly ports?: readonly string[];
  readonly locality?: string;
  readonly initialFetchTimeout?: string;
}

export interface PortMapping {
  /** The workload (container) port: mesh traffic arrives at `ip:port`. */
  readonly port: number;
  /** Where the app listens on 127.0.0.1. */
  readonly appPort: number;
}

export interface Bootstrap {
  readonly kind: ProxyKind;
  /** The control plane's ADS address, `host:port`. */
  readonly control: string;
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The workload address (sidecar) or the address gateways listen on. */
  readonly ip: string;
  readonly ports: readonly PortMapping[];
  readonly locality?: { readonly region: string; readonly zone: string; readonly subZone: string };
  readonly initialFetchTimeoutMs: number;
  readonly node: NodeProto;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Envoy-style features the client announces in `client_features`. */
export const CLIENT_FEATURES: readonly string[] = [
  // Locality weights are used as given; priority overprovisioning is not implemented.
  'envoy.lb.does_not_support_overprovisioning',
];

export const DEFAULT_CONTROL = '127.0.0.1:15010';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

let cachedVersion: string | undefined;
/** weft's version (package.json), announced as the user agent version and ISTIO_VERSION. */
export function weftVersion(): string {
  return (cachedVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
}

/** The first non-empty value among the flag and the environment variables. */
function pick(flag: string | undefined, env: Env, ...vars: string[]): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  for (const v of vars) {
    const value = env[v];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

const show = (v: string): string => JSON.stringify(v);

function parseControl(value: string, problems: string[]): string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (m === null || Number(m[3]) < 1 || Number(m[3]) > 65535) problems.push(`--control: must be HOST:PORT, e.g. 127.0.0.1:15010 (got ${show(value)})`);
  return value;
}

function parseLabels(value: string | undefined, problems: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  if (value === undefined) return labels;
  for (const part of value.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (eq <= 0 || !/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key)) {
      problems.push(`--labels: each label must be key=value with a valid key (got ${show(part)})`);
      continue;
    }
    labels[key] = part.slice(eq + 1);
  }
  return labels;
}

function parsePort(text: string, what: string, problems: string[]): number | undefined {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (n >= 1 && n <= 65535) return n;
  problems.push(`--port: ${what} must be a port number 1-65535 (got ${show(text)})`);
  return undefined;
}

function parsePorts(values: readonly string[], problems: string[]): PortMapping[] {
  const out: PortMapping[] = [];
  for (const value of values) {
    const [p, app, extra] = value.split(':');
    if (p === undefined || extra !== undefined) {
      problems.push(`--port: must be PORT or PORT:APP_PORT (got ${show(value)})`);
      continue;
    }
    const port = parsePort(p, 'PORT', problems);
    const appPort = app === undefined ? port : parsePort(app, 'APP_PORT', problems);
    if (port === undefined || appPort === undefined) continue;
    if (out.some((m) => m.port === port)) problems.push(`--port: ${port} is given twice`);
    else out.push({ port, appPort });
  }
  return out;
}

function portsOf(flags: ProxyFlags, env: Env): string[] {
  if (flags.ports !== undefined && flags.ports.length > 0) return [...flags.ports];
  return (env.WEFT_PORTS ?? '').split(/[\s,]+/).filter((p) => p !== '');
}

function parseLocality(value: string | undefined, problems: string[]): Bootstrap['locality'] {
  if (value === undefined) return undefined;
  const parts = value.split('/');
  if (parts.length > 3 || parts.some((p) => p === '' || /\s/.test(p))) {
    problems.push(`--locality: must be region[/zone[/subzone]] (got ${show(value)})`);
    return undefined;
  }
  return { region: parts[0] ?? '', zone: parts[1] ?? '', subZone: parts[2] ?? '' };
}

function parseTimeout(value: string | undefined, problems: string[]): number {
  if (value === undefined) return 15_000;
  const n = Number(value);
  if (/^\d+$/.test(value) && Number.isSafeInteger(n)) return n;
  problems.push(`--initial-fetch-timeout: must be milliseconds, 0 for none (got ${show(value)})`);
  return 15_000;
}

function checkName(option: string, value: string | undefined, rule: RegExp, problems: string[]): string {
  if (value === undefined) problems.push(`${option}: required`);
  else if (!rule.test(value)) problems.push(`${option}: must be lowercase letters, digits and '-'${rule === DNS_SUBDOMAIN ? " or '.'" : ''}, starting and ending alphanumeric (got ${show(value)})`);
  return value ?? '';
}

function checkIp(option: string, value: string, problems: string[]): string {
  if (isIP(value) === 0) problems.push(`${option}: must be an IP address (got ${show(value)})`);
  return value;
}

/** `ISTIO_META_<KEY>` variables as metadata entries (Istio's agent convention). */
function extraMetadata(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (key.startsWith('ISTIO_META_') && key.length > 11 && value !== undefined) out[key.slice(11)] = value;
  return out;
}

/**
 * Reads a proxy's bootstrap from flags and environment. A sidecar without `--ip`/`WEFT_IP` gets
 * `fallbackIp` (see `loadBootstrap`, which finds a free loopback address). Throws a `BootstrapError`
 * listing every problem.
 */
export function parseBootstrap(kind: ProxyKind, flags: ProxyFlags, env: Env = process.env, fallbackIp = '127.0.0.1'): Bootstrap {
  const problems: string[] = [];
  const control = parseControl(pick(flags.control, env, 'WEFT_CONTROL') ?? DEFAULT_CONTROL, problems);
  const name = checkName('--name', pick(flags.name, env, 'WEFT_NAME'), DNS_SUBDOMAIN, problems);
  const namespace = checkName('--namespace', pick(flags.namespace, env, 'WEFT_NAMESPACE', 'POD_NAMESPACE') ?? 'default', DNS_LABEL, problems);
  const serviceAccount = checkName('--service-account', pick(flags.serviceAccount, env, 'WEFT_SERVICE_ACCOUNT', 'SERVICE_ACCOUNT') ?? 'default', DNS_SUBDOMAIN, problems);
  const labels = parseLabels(pick(flags.labels, env, 'WEFT_LABELS'), problems);
  const ip = kind === 'router'
    ? checkIp('--bind', pick(flags.bind, env, 'WEFT_BIND') ?? '127.0.0.1', problems)
    : checkIp('--ip', pick(flags.ip, env, 'WEFT_IP', 'INSTANCE_IP') ?? fallbackIp, problems);
  const ports = parsePorts(portsOf(flags, env), problems);
  const locality = parseLocality(pick(flags.locality, env, 'WEFT_LOCALITY'), problems);
  const initialFetchTimeoutMs = parseTimeout(pick(flags.initialFetchTimeout, env, 'WEFT_INITIAL_FETCH_TIMEOUT_MS'), problems);
  if (problems.length > 0) throw new BootstrapError(problems);
  const fields = { kind, control, name, namespace, serviceAccount, labels, ip, ports, initialFetchTimeoutMs, ...(locality === undefined ? {} : { locality }) };
  return { ...fields, node: buildNode(fields, extraMetadata(env)) };
}

/** Like `parseBootstrap`, choosing a free loopback address for a sidecar that was given none. */
export async function loadBootstrap(kind: ProxyKind, flags: ProxyFlags, env: Env = process.env): Promise<Bootstrap> {
  const given = kind === 'router' || pick(flags.ip, env, 'WEFT_IP', 'INSTANCE_IP') !== undefined;
  return parseBootstrap(kind, flags, env, given ? undefined : await freeLoopbackAddress());
}

/** The xDS node for a bootstrap (metadata with Istio's keys, encoded as a Struct). */
export function buildNode(b: Omit<Bootstrap, 'node' | 'control' | 'initialFetchTimeoutMs'>, extra: Readonly<Record<string, string>> = {}): NodeProto {
  const version = weftVersion();
  const metadata: Record<string, unknown> = {
    ...extra,
    [META.namespace]: b.namespace,
    [META.labels]: b.labels,
    [META.serviceAccount]: b.serviceAccount,
    [META.workloadName]: b.name,
    [META.name]: b.name,
    [META.instanceIps]: b.ip,
    [META.interceptionMode]: 'NONE',
    [META.podPorts]: JSON.stringify(b.ports.map((p) => ({ containerPort: p.port, protocol: 'TCP' }))),
    [META.appPorts]: JSON.stringify(Object.fromEntries(b.ports.map((p) => [String(p.port), p.appPort]))),
    [META.istioVersion]: version,
    // Outbound virtual hosts over VHDS: a change to one service ships that service's routes alone.
    [META.vhds]: 'true',
  };
  return {
    id: `${b.kind}~${b.ip}~${b.name}.${b.namespace}~${b.namespace}.svc.cluster.local`,
    cluster: `${b.labels.app ?? b.name}.${b.namespace}`,
    metadata: jsToStruct(metadata),
    locality: b.locality ?? {},
    userAgentName: 'weft',
    userAgentVersion: version,
    clientFeatures: CLIENT_FEATURES,
  };
}

/**
 * A loopback address of its own for a local-mode sidecar: the first of 127.0.1.2…127.0.1.254 whose
 * admin port (15000) is free. Linux routes all of 127/8 to loopback; elsewhere only 127.0.0.1 exists.
 * Two sidecars starting at the same instant may pick the same one; `weft run` assigns addresses instead.
 */
export async function freeLoopbackAddress(probePort = 15000): Promise<string> {
  if (platform() !== 'linux') return '127.0.0.1';
  for (let i = 2; i < 255; i++) {
    const address = `127.0.1.${i}`;
    if (await canBind(address, probePort)) return address;
  }
  return '127.0.0.1';
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
