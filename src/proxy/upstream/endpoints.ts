/**
 * Compiles a `ClusterLoadAssignment` (from EDS, or a cluster's inline `load_assignment`) into an
 * `Assignment`: endpoints grouped by priority and locality with their weights and EDS health, plus the
 * load-balancing policy knobs Envoy reads from it (overprovisioning factor, weighted priority health).
 * Validation follows the proto's constraints and Envoy's cluster checks; every problem is collected.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/endpoint/v3/endpoint.proto
 */
import { isIP } from 'node:net';
import type { Proto } from './proto-read.ts';
import { at, bool, enumName, has, list, message, obj, Problems, text, u32 } from './proto-read.ts';

export const HEALTH_STATUSES = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/**
 * How the load balancer treats a host, as Envoy does: UNKNOWN counts as healthy; UNHEALTHY and TIMEOUT
 * hosts are used only in panic; DRAINING hosts are excluded altogether, even in panic, and do not count
 * towards a priority's size (Envoy's `exclude_host_in_eds_status_draining`).
 */
export type Availability = 'healthy' | 'degraded' | 'unhealthy' | 'excluded';

export function availability(status: HealthStatus): Availability {
  switch (status) {
    case 'UNKNOWN':
    case 'HEALTHY':
      return 'healthy';
    case 'DEGRADED':
      return 'degraded';
    case 'DRAINING':
      return 'excluded';
    default:
      return 'unhealthy';
  }
}

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

export interface EndpointSpec {
  /** An IP literal (EDS, STATIC) or a DNS name (STRICT_DNS, LOGICAL_DNS targets). */
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly health: HealthStatus;
  /** `endpoint.hostname` (for auto host rewrite and admin output). */
  readonly hostname: string;
}

export interface LocalityGroup {
  readonly priority: number;
  readonly locality: Locality;
  /** `region/zone/sub_zone`, the key used by `UpstreamHost.locality`. */
  readonly key: string;
  /** The locality's load_balancing_weight; undefined when unset (0 for locality-weighted LB). */
  readonly weight: number | undefined;
  readonly endpoints: readonly EndpointSpec[];
}

export interface Assignment {
  readonly groups: readonly LocalityGroup[];
  /** Envoy's overprovisioning factor as a percentage (default 140). */
  readonly overprovisioningFactor: number;
  readonly weightedPriorityHealth: boolean;
}

export const EMPTY_ASSIGNMENT: Assignment = { groups: [], overprovisioningFactor: 140, weightedPriorityHealth: false };

export interface CompileEndpointsOptions {
  /** Endpoint addresses must be IP literals (every cluster type but STRICT_DNS / LOGICAL_DNS). */
  readonly requireIp: boolean;
}

const MAX_PRIORITY = 128;
const MAX_WEIGHT_SUM = 0xffffffff;

export function localityKey(l: Locality): string {
  return l.region === '' && l.zone === '' && l.subZone === '' ? '' : `${l.region}/${l.zone}/${l.subZone}`;
}

function compileLocality(p: Proto, path: string, problems: Problems): Locality {
  const l = message(p, 'locality', path, problems);
  const lp = at(path, 'locality');
  return { region: text(l, 'region', lp, problems), zone: text(l, 'zone', lp, problems), subZone: text(l, 'subZone', lp, problems) };
}

function compileAddress(lb: Proto, path: string, problems: Problems, options: CompileEndpointsOptions): { address: string; port: number; hostname: string } | undefined {
  if (has(lb, 'endpointName')) {
    problems.add(at(path, 'endpointName'), 'named endpoints are not supported (use endpoint)');
    return undefined;
  }
  const ep = message(lb, 'endpoint', path, problems);
  const epPath = at(path, 'endpoint');
  const hostname = text(ep, 'hostname', epPath, problems);
  const addr = message(ep, 'address', epPath, problems);
  const addrPath = at(epPath, 'address');
  if (has(addr, 'pipe') || has(addr, 'envoyInternalAddress')) {
    problems.add(addrPath, 'only socket_address endpoints are supported');
    return undefined;
  }
  if (!has(addr, 'socketAddress')) {
    problems.add(addrPath, 'required: socket_address');
    return undefined;
  }
  const sa = message(addr, 'socketAddress', addrPath, problems);
  const saPath = at(addrPath, 'socketAddress');
  const address = text(sa, 'address', saPath, problems);
  const before = problems.list.length;
  if (address === '') problems.add(at(saPath, 'address'), 'required');
  else if (options.requireIp && isIP(address) === 0) problems.add(at(saPath, 'address'), `must be an IP address for this cluster type (got ${JSON.stringify(address)})`);
  if (has(sa, 'namedPort')) problems.add(at(saPath, 'namedPort'), 'named ports are not supported (use port_value)');
  if (text(sa, 'resolverName', saPath, problems) !== '') problems.add(at(saPath, 'resolverName'), 'custom resolvers are not supported');
  if (enumName(sa, 'protocol', ['TCP', 'UDP'], saPath, problems) !== 'TCP') problems.add(at(saPath, 'protocol'), 'only TCP endpoints are supported');
  const port = u32(sa, 'portValue', saPath, problems) ?? 0;
  if (port > 65535) problems.add(at(saPath, 'portValue'), `must be at most 65535 (got ${port})`);
  return problems.list.length === before ? { address, port, hostname } : undefined;
}

function compileLbEndpoint(lb: Proto, path: string, problems: Problems, options: CompileEndpointsOptions): EndpointSpec | undefined {
  const addr = compileAddress(lb, path, problems, options);
  const health = enumName(lb, 'healthStatus', HEALTH_STATUSES, path, problems);
  const weight = u32(lb, 'loadBalancingWeight', path, problems) ?? 1;
  if (weight < 1) problems.add(at(path, 'loadBalancingWeight'), 'must be at least 1');
  if (addr === undefined || weight < 1) return undefined;
  return { address: addr.address, port: addr.port, hostname: addr.hostname, weight, health };
}

function compileGroup(le: Proto, path: string, problems: Problems, options: CompileEndpointsOptions): LocalityGroup {
  const locality = compileLocality(le, path, problems);
  const priority = u32(le, 'priority', path, problems) ?? 0;
  if (priority > MAX_PRIORITY) problems.add(at(path, 'priority'), `must be at most ${MAX_PRIORITY} (got ${priority})`);
  const weight = u32(le, 'loadBalancingWeight', path, problems);
  if (weight !== undefined && weight < 1) problems.add(at(path, 'loadBalancingWeight'), 'must be at least 1');
  if (has(le, 'ledsClusterLocalityConfig')) problems.add(at(path, 'ledsClusterLocalityConfig'), 'LEDS is not supported');
  const endpoints: EndpointSpec[] = [];
  list(le, 'lbEndpoints', path, problems).forEach((raw, i) => {
    const p = at(at(path, 'lbEndpoints'), i);
    const lb = obj(raw);
    if (lb === undefined) return problems.add(p, 'expected a message');
    const ep = compileLbEndpoint(lb, p, problems, options);
    if (ep !== undefined) endpoints.push(ep);
  });
  return { priority: Math.min(priority, MAX_PRIORITY), locality, key: localityKey(locality), weight, endpoints };
}

function checkWeightSums(groups: readonly LocalityGroup[], path: string, problems: Problems): void {
  const sums = new Map<number, number>();
  const localitySums = new Map<number, number>();
  for (const g of groups) {
    let s = sums.get(g.priority) ?? 0;
    for (const e of g.endpoints) s += e.weight;
    sums.set(g.priority, s);
    localitySums.set(g.priority, (localitySums.get(g.priority) ?? 0) + (g.weight ?? 0));
  }
  for (const [priority, s] of sums) {
    if (s > MAX_WEIGHT_SUM) problems.add(at(path, 'endpoints'), `the endpoint weights of priority ${priority} sum to ${s}, more than ${MAX_WEIGHT_SUM}`);
  }
  for (const [priority, s] of localitySums) {
    if (s > MAX_WEIGHT_SUM) problems.add(at(path, 'endpoints'), `the locality weights of priority ${priority} sum to ${s}, more than ${MAX_WEIGHT_SUM}`);
  }
}

function compilePolicy(cla: Proto, path: string, problems: Problems): { overprovisioningFactor: number; weightedPriorityHealth: boolean } {
  const policy = message(cla, 'policy', path, problems);
  const pp = at(path, 'policy');
  const factor = u32(policy, 'overprovisioningFactor', pp, problems) ?? 140;
  if (factor < 1) problems.add(at(pp, 'overprovisioningFactor'), 'must be greater than 0');
  if (list(policy, 'dropOverloads', pp, problems).length > 0) problems.add(at(pp, 'dropOverloads'), 'drop_overloads is not supported');
  return { overprovisioningFactor: Math.max(1, factor), weightedPriorityHealth: bool(policy, 'weightedPriorityHealth', pp, problems) };
}

/** Compiles a ClusterLoadAssignment (`path` prefixes problems, '' for an EDS resource). */
export function compileAssignment(cla: Proto, path: string, problems: Problems, options: CompileEndpointsOptions): Assignment {
  const groups: LocalityGroup[] = [];
  list(cla, 'endpoints', path, problems).forEach((raw, i) => {
    const p = at(at(path, 'endpoints'), i);
    const le = obj(raw);
    if (le === undefined) return problems.add(p, 'expected a message');
    groups.push(compileGroup(le, p, problems, options));
  });
  if (Object.keys(obj(cla['namedEndpoints']) ?? {}).length > 0) problems.add(at(path, 'namedEndpoints'), 'named endpoints are not supported');
  checkWeightSums(groups, path, problems);
  return { groups, ...compilePolicy(cla, path, problems) };
}

/** Validates an EDS resource on its own (the xDS client's `validate`). */
export function validateLoadAssignment(name: string, cla: Proto): string[] {
  const problems = new Problems();
  const clusterName = text(cla, 'clusterName', '', problems);
  if (clusterName === '') problems.add('clusterName', 'required');
  else if (clusterName !== name) problems.add('clusterName', `does not match the resource name ${JSON.stringify(name)}`);
  compileAssignment(cla, '', problems, { requireIp: true });
  return problems.list;
}
