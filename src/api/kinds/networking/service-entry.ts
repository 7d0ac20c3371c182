/**
 * ServiceEntry (networking.istio.io): adds a service to the mesh's registry — an external API, a VM
 * workload, a set of IPs — with its hosts, ports, resolution and endpoints.
 * https://istio.io/latest/docs/reference/config/networking/service-entry/
 */
import * as z from 'zod';
import { check, obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { exportTo, ipOrCidr, port, str } from '../../schema/primitives.ts';
import { dns1123LabelProblem, fqdnProblem, wildcardHostProblem } from '../../schema/names.ts';
import { isHttpProtocol, isTlsProtocol, parseProtocol, PROTOCOL_NAMES, type Protocol } from '../../protocol.ts';
import { defineKind } from '../kind.ts';
import { WorkloadSelector, workloadSelectorRules } from './shared.ts';
import { WorkloadEntryFields, workloadAddressRules } from './workload-entry.ts';

/** A ServiceEntry port: unlike a Gateway port the protocol may be left out (it is then sniffed). */
export const ServicePort = rules(
  obj({
    number: port(),
    protocol: str().optional(),
    name: check(str(), (n) => (n === '' ? 'port name must be set' : dns1123LabelProblem(n))),
    targetPort: port().optional(),
  }),
  (p, report) => {
    if (p.protocol !== undefined && p.protocol !== '' && parseProtocol(p.protocol) === undefined) {
      report({ path: ['protocol'], message: `unsupported protocol ${JSON.stringify(p.protocol)} (use one of ${PROTOCOL_NAMES.join(', ')})` });
    }
  },
);
export type ServicePort = z.output<typeof ServicePort>;

/**
 * A ServiceEntry host: a domain name, optionally `*.`-prefixed. `*` alone is refused (it would capture
 * all traffic); a partial wildcard such as `*foo.com` is accepted with a warning, as Istio does.
 */
export function serviceEntryHostProblems(h: string): { error?: string; warning?: string } {
  if (h === '*') return { error: 'hosts cannot be "*": name the domains, e.g. "*.example.com"' };
  const dot = h.indexOf('.');
  const first = dot < 0 ? h : h.slice(0, dot);
  if (PARTIAL_WILDCARD.test(first)) {
    const rest = dot < 0 ? undefined : fqdnProblem(h.slice(dot + 1), h);
    if (rest !== undefined) return { error: rest };
    return { warning: `partial wildcard ${JSON.stringify(h)} is not supported: only a whole first label "*." matches subdomains` };
  }
  const p = wildcardHostProblem(h);
  return p === undefined ? {} : { error: p };
}

/** A first label such as `*foo` or `*-foo`, which Istio's host check lets through. */
const PARTIAL_WILDCARD = /^\*-?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export const ServiceEntrySpec = rules(
  obj({
    hosts: z.array(str()).min(1).max(256),
    addresses: z.array(ipOrCidr()).max(256).optional(),
    ports: z.array(ServicePort).max(256).optional(),
    location: oneOf(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
    resolution: oneOf(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']).optional(),
    endpoints: z.array(WorkloadEntryFields).max(4096).optional(),
    workloadSelector: WorkloadSelector.optional(),
    exportTo: exportTo().optional(),
    subjectAltNames: z.array(str()).optional(),
  }),
  (se, report) => serviceEntryRules(se, report),
);
export type ServiceEntrySpec = z.output<typeof ServiceEntrySpec>;

function serviceEntryRules(se: ServiceEntrySpec, report: (i: RuleIssue) => void): void {
  const resolution = se.resolution ?? 'NONE';
  se.hosts.forEach((h, i) => {
    const p = serviceEntryHostProblems(h);
    if (p.error !== undefined) report({ path: ['hosts', i], message: p.error });
    if (p.warning !== undefined) report({ path: ['hosts', i], severity: 'warning', message: p.warning });
  });
  workloadSelectorRules(se.workloadSelector, ['workloadSelector'], report);
  if (se.workloadSelector !== undefined && se.endpoints !== undefined) {
    report({ path: ['workloadSelector'], message: 'only one of workloadSelector or endpoints can be set' });
  }
  (se.addresses ?? []).forEach((a, i) => {
    if (a.includes('/') && resolution !== 'NONE' && resolution !== 'STATIC') {
      report({ path: ['addresses', i], message: `CIDR addresses are only allowed with resolution NONE or STATIC (got ${a} with ${resolution})` });
    }
  });
  portRules(se, resolution, report);
  resolutionRules(se, resolution, report);
  multipleHostsRule(se, resolution, report);
}

function portRules(se: ServiceEntrySpec, resolution: string, report: (i: RuleIssue) => void): void {
  const names = new Map<string, number>();
  const numbers = new Map<number, number>();
  (se.ports ?? []).forEach((p, i) => {
    const byName = names.get(p.name);
    if (byName !== undefined) report({ path: ['ports', i, 'name'], message: `port name ${JSON.stringify(p.name)} is already used by ports[${byName}]` });
    else names.set(p.name, i);
    const byNumber = numbers.get(p.number);
    if (byNumber !== undefined) report({ path: ['ports', i, 'number'], message: `port ${p.number} is already defined by ports[${byNumber}]` });
    else numbers.set(p.number, i);
    if (p.targetPort !== undefined && resolution === 'NONE') {
      report({ path: ['ports', i, 'targetPort'], severity: 'warning', message: 'targetPort has no effect with resolution NONE (traffic goes to the original destination port)' });
    }
  });
}

function resolutionRules(se: ServiceEntrySpec, resolution: string, report: (i: RuleIssue) => void): void {
  const endpoints = se.endpoints ?? [];
  const portNames = new Set((se.ports ?? []).map((p) => p.name));
  if (resolution === 'NONE') {
    if (se.endpoints !== undefined) report({ path: ['endpoints'], message: 'resolution NONE cannot have endpoints (traffic goes to the address the client asked for)' });
    if (se.workloadSelector !== undefined) report({ path: ['workloadSelector'], severity: 'warning', message: 'workloadSelector has no effect with resolution NONE' });
    return;
  }
  if (resolution === 'STATIC') {
    if (se.endpoints === undefined && se.workloadSelector === undefined) {
      report({ path: ['resolution'], severity: 'warning', message: 'resolution STATIC without endpoints or workloadSelector: the service has no endpoints' });
    }
    endpoints.forEach((e, i) => {
      workloadAddressRules(e, 'static', ['endpoints', i], report);
      if (e.address?.startsWith('unix://') && portNames.size !== 1) {
        report({ path: ['endpoints', i, 'address'], message: `a unix socket endpoint needs exactly one service port (the ServiceEntry has ${portNames.size})` });
      }
    });
  } else {
    if (endpoints.length === 0) {
      se.hosts.forEach((h, i) => {
        if (h.startsWith('*')) report({ path: ['hosts', i], message: `resolution ${resolution} without endpoints resolves the hosts themselves, so they cannot be wildcards (got ${JSON.stringify(h)})` });
      });
    }
    if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
      report({ path: ['endpoints'], message: `resolution DNS_ROUND_ROBIN allows at most one endpoint (got ${endpoints.length})` });
    }
    endpoints.forEach((e, i) => workloadAddressRules(e, 'dns', ['endpoints', i], report));
    if (se.workloadSelector !== undefined) report({ path: ['workloadSelector'], severity: 'warning', message: `workloadSelector is not meant for resolution ${resolution} (selected workloads' addresses are then looked up in DNS): use resolution STATIC with a selector, or list endpoints` });
    dnsAddressesRule(se, report);
  }
  endpoints.forEach((e, i) => {
    for (const [name, number] of Object.entries(e.ports ?? {})) {
      if (!portNames.has(name)) report({ path: ['endpoints', i, 'ports', name], message: `endpoint port ${JSON.stringify(name)} (${number}) is not one of the ServiceEntry's port names (${[...portNames].join(', ') || 'none'})` });
    }
  });
}

/** With DNS resolution, a TCP port on a fixed address cannot tell several hosts apart. */
function dnsAddressesRule(se: ServiceEntrySpec, report: (i: RuleIssue) => void): void {
  if ((se.addresses ?? []).length === 0 || se.hosts.length < 2) return;
  const i = (se.ports ?? []).findIndex((p) => isTcpLike(parseProtocol(p.protocol ?? '')));
  if (i >= 0) report({ path: ['ports', i], severity: 'warning', message: 'a ServiceEntry with addresses and a TCP port should have a single host: TCP traffic to the address cannot be told apart by host' });
}

/** Plain TCP cannot be routed by host; HTTP uses the Host header and TLS the SNI name. */
function multipleHostsRule(se: ServiceEntrySpec, resolution: string, report: (i: RuleIssue) => void): void {
  if (resolution === 'NONE' || se.hosts.length < 2) return;
  const i = (se.ports ?? []).findIndex((p) => {
    const proto = parseProtocol(p.protocol ?? '');
    return !isHttpProtocol(proto) && !isTlsProtocol(proto);
  });
  if (i >= 0) {
    const proto = se.ports![i]!.protocol ?? '';
    report({ path: ['ports', i, 'protocol'], message: `several hosts need HTTP or TLS ports to tell them apart (port ${se.ports![i]!.number} is ${proto === '' ? 'unset' : proto}); use one host per ServiceEntry for TCP` });
  }
}

function isTcpLike(p: Protocol | undefined): boolean {
  return p === 'TCP' || p === 'HTTPS' || p === 'TLS' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';
}

export const ServiceEntry = defineKind({
  kind: 'ServiceEntry',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'serviceentries',
  shortNames: ['se'],
  spec: ServiceEntrySpec,
});
