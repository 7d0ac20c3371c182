/**
 * WorkloadEntry (networking.istio.io): one non-Kubernetes workload (a VM, a bare-metal host) with its
 * address, ports and labels. The same message is a ServiceEntry endpoint and a WorkloadGroup template.
 * https://istio.io/latest/docs/reference/config/networking/workload-entry/
 */
import * as z from 'zod';
import { check, rules, obj, type RuleIssue } from '../../schema/object.ts';
import { labelMap, port, str, uint32 } from '../../schema/primitives.ts';
import { dns1123LabelProblem, fqdnProblem } from '../../schema/names.ts';
import { ipProblem, UNIX_PREFIX, unixPathProblem } from '../../schema/net.ts';
import { defineKind } from '../kind.ts';

/** Endpoint ports: port name (a DNS-1123 label, matching a service port name) → port number. */
export function endpointPorts() {
  return z.record(z.string(), port()).superRefine((m, ctx) => {
    for (const k of Object.keys(m)) {
      const p = dns1123LabelProblem(k);
      if (p !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `port name ${p}`, input: k });
    }
  });
}

/** Every field of a WorkloadEntry, with the checks that need no context. */
export const workloadEntryShape = {
  address: check(str(), (a) => (a.length > 256 ? `address is longer than 256 characters (got ${a.length})` : undefined)).optional(),
  ports: endpointPorts().optional(),
  labels: labelMap().optional(),
  network: str().optional(),
  locality: str().optional(),
  weight: uint32().optional(),
  serviceAccount: str().optional(),
};

export const WorkloadEntryFields = obj(workloadEntryShape);
export type WorkloadEntryFields = z.output<typeof WorkloadEntryFields>;

/**
 * Which addresses an entry may have: a standalone WorkloadEntry may name a host, a STATIC ServiceEntry
 * endpoint only an IP or unix socket, a DNS ServiceEntry endpoint only an IP or host name.
 */
export type AddressKind = 'any' | 'static' | 'dns';

/** The address rules of a workload entry; `path` is where the entry sits relative to the reporting object. */
export function workloadAddressRules(we: WorkloadEntryFields, kind: AddressKind, path: readonly (string | number)[], report: (i: RuleIssue) => void): void {
  const addr = we.address ?? '';
  const at = [...path, 'address'];
  if (addr === '') {
    if (kind === 'dns') report({ path: at, message: 'DNS endpoints need an address (an IP or a host name)' });
    else if (!we.network) report({ path: at, message: 'address is required (or network, for a workload reached through a network gateway)' });
    else report({ path: at, severity: 'warning', message: `address is unset: the workload is only reachable through network ${JSON.stringify(we.network)}'s gateway` });
    return;
  }
  if (addr.startsWith(UNIX_PREFIX)) {
    if (kind === 'dns') {
      report({ path: at, message: `DNS endpoints must be an IP address or host name, not a unix socket (got ${JSON.stringify(addr)})` });
      return;
    }
    const p = unixPathProblem(addr.slice(UNIX_PREFIX.length));
    if (p !== undefined) report({ path: at, message: p });
    if (Object.keys(we.ports ?? {}).length > 0) report({ path: [...path, 'ports'], message: `unix socket endpoint ${addr} cannot have ports` });
    return;
  }
  if (ipProblem(addr) === undefined) return;
  if (kind === 'static') report({ path: at, message: `STATIC endpoints must be an IP address or unix:// socket (got ${JSON.stringify(addr)}); use resolution DNS for host names` });
  else if (fqdnProblem(addr) !== undefined) {
    const allowed = kind === 'dns' ? 'an IP address or a host name' : 'an IP address, a host name or a unix:// socket';
    report({ path: at, message: `must be ${allowed} (got ${JSON.stringify(addr)})` });
  }
}

export const WorkloadEntrySpec = rules(WorkloadEntryFields, (we, report) => workloadAddressRules(we, 'any', [], report));
export type WorkloadEntrySpec = z.output<typeof WorkloadEntrySpec>;

export const WorkloadEntry = defineKind({
  kind: 'WorkloadEntry',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'workloadentries',
  shortNames: ['we'],
  spec: WorkloadEntrySpec,
});
