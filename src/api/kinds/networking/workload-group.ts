/**
 * WorkloadGroup (networking.istio.io): the template from which WorkloadEntries are made for VMs that
 * join the mesh, with shared metadata and a readiness probe.
 * https://istio.io/latest/docs/reference/config/networking/workload-group/
 */
import * as z from 'zod';
import { exactlyOne, obj, rules } from '../../schema/object.ts';
import { headerName, intIn, labelMap, nonEmpty, port, str, stringMap } from '../../schema/primitives.ts';
import { defineKind } from '../kind.ts';
import { workloadEntryShape } from './workload-entry.ts';
import { UNIX_PREFIX, unixPathProblem } from '../../schema/net.ts';

/** Probe counters: int32 that Istio refuses when negative (0 means "use the default"). */
const seconds = () => intIn(0, 2147483647);

const HTTPHealthCheckConfig = obj({
  path: str().optional(),
  port: port(),
  host: str().optional(),
  scheme: str().optional(),
  httpHeaders: z.array(obj({ name: headerName(), value: str().optional() })).optional(),
});

const METHODS = ['httpGet', 'tcpSocket', 'exec', 'grpc'] as const;

export const ReadinessProbe = rules(
  obj({
    initialDelaySeconds: seconds().optional(),
    timeoutSeconds: seconds().optional(),
    periodSeconds: seconds().optional(),
    successThreshold: seconds().optional(),
    failureThreshold: seconds().optional(),
    httpGet: HTTPHealthCheckConfig.optional(),
    tcpSocket: obj({ host: str().optional(), port: port() }).optional(),
    exec: obj({ command: z.array(nonEmpty()).min(1) }).optional(),
    grpc: obj({ port: port().optional(), service: str().optional() }).optional(),
  }),
  (p, report) => {
    exactlyOne(p, METHODS, report);
    const scheme = p.httpGet?.scheme;
    if (scheme !== undefined && scheme !== '' && scheme !== 'HTTP' && scheme !== 'HTTPS') {
      report({ path: ['httpGet', 'scheme'], message: `scheme must be HTTP or HTTPS (got ${JSON.stringify(scheme)})` });
    }
    // The CRD lists grpc, but Istio's admission webhook has no case for it and rejects the probe.
    if (p.grpc !== undefined) report({ path: ['grpc'], message: 'grpc probes are not supported by Istio yet: use httpGet, tcpSocket or exec' });
  },
);
export type ReadinessProbe = z.output<typeof ReadinessProbe>;

/** The template is a WorkloadEntry whose address is filled in per workload when it registers. */
const WorkloadTemplate = rules(obj(workloadEntryShape), (t, report) => {
  const addr = t.address ?? '';
  if (addr.startsWith(UNIX_PREFIX)) {
    const p = unixPathProblem(addr.slice(UNIX_PREFIX.length));
    if (p !== undefined) report({ path: ['address'], message: p });
    if (t.ports !== undefined) report({ path: ['ports'], message: `unix socket address ${addr} cannot have ports` });
  }
  if (addr !== '') report({ path: ['address'], severity: 'warning', message: 'address is set per workload when its WorkloadEntry is created; leave it out of the template' });
  if (t.labels !== undefined) report({ path: ['labels'], severity: 'warning', message: 'put labels in metadata.labels, not in the template' });
});

export const WorkloadGroupSpec = obj({
  metadata: obj({
    labels: labelMap().optional(),
    annotations: stringMap().optional(),
  }).optional(),
  template: WorkloadTemplate,
  probe: ReadinessProbe.optional(),
});
export type WorkloadGroupSpec = z.output<typeof WorkloadGroupSpec>;

export const WorkloadGroup = defineKind({
  kind: 'WorkloadGroup',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'workloadgroups',
  shortNames: ['wg'],
  spec: WorkloadGroupSpec,
});
