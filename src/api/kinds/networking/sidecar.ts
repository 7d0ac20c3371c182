/**
 * Sidecar (networking.istio.io): narrows what a workload's proxy listens on (ingress listeners, the
 * inbound connection pool) and which services it can reach (egress listeners, outbound traffic policy).
 * https://istio.io/latest/docs/reference/config/networking/sidecar/
 */
import * as z from 'zod';
import { obj, oneOf, rules, type RuleIssue } from '../../schema/object.ts';
import { str, uint32 } from '../../schema/primitives.ts';
import { dns1123LabelProblem, fqdnProblem, namespacedHostProblem } from '../../schema/names.ts';
import { ipProblem, UNIX_PREFIX, unixPathProblem } from '../../schema/net.ts';
import { showValue } from '../../errors.ts';
import { isHttpProtocol, isTlsProtocol, parseProtocol, PROTOCOL_NAMES } from '../../protocol.ts';
import { defineKind } from '../kind.ts';
import { Destination } from './destination.ts';
import { ServerTLSSettings, WorkloadSelector, workloadSelectorRules } from './shared.ts';
import { ConnectionPoolSettings } from './traffic-policy.ts';

type Report = (i: RuleIssue) => void;

/** A listener port. Number 0 is an egress listener bound to a unix socket; the protocol may be empty (sniffed). */
export const SidecarPort = obj({
  number: uint32().optional(),
  protocol: str().optional(),
  name: str().optional(),
  targetPort: uint32().optional(),
});
export type SidecarPort = z.output<typeof SidecarPort>;

export const CAPTURE_MODES = ['DEFAULT', 'IPTABLES', 'NONE'] as const;

/** Name, protocol and targetPort rules common to ingress and egress ports (paths are relative to the listener). */
function portBasics(p: SidecarPort, report: Report): void {
  if (p.name !== undefined && p.name !== '') {
    const problem = dns1123LabelProblem(p.name);
    if (problem !== undefined) report({ path: ['port', 'name'], message: `port name ${problem}` });
  }
  if (p.protocol !== undefined && p.protocol !== '' && parseProtocol(p.protocol) === undefined) {
    report({ path: ['port', 'protocol'], message: `unsupported protocol ${showValue(p.protocol)} (use one of ${PROTOCOL_NAMES.join(', ')}, or leave it empty to detect it)` });
  }
  if ((p.targetPort ?? 0) > 0) report({ path: ['port', 'targetPort'], message: 'targetPort has no effect on Sidecars' });
}

function ipPortProblem(n: number | undefined): string | undefined {
  return n !== undefined && n >= 1 && n <= 65535 ? undefined : `must be between 1 and 65535 (got ${n ?? 'nothing'})`;
}

function bindRule(bind: string | undefined, report: Report): void {
  if (bind === undefined || bind === '') return;
  const problem = ipProblem(bind);
  if (problem !== undefined) report({ path: ['bind'], message: problem });
}

/** `defaultEndpoint` forwards to the app on loopback or any address (`127.0.0.1:8080`, `[::1]:8080`, `:8080`) or to a unix socket. */
function defaultEndpointProblem(ep: string): string | undefined {
  if (ep.startsWith(UNIX_PREFIX)) return unixPathProblem(ep.slice(UNIX_PREFIX.length));
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(ep);
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined) return `must be host:port with a loopback or unspecified host, e.g. "127.0.0.1:8080", "[::1]:8080" or ":8080", or unix:///path (got ${showValue(ep)})`;
  if (!['', '127.0.0.1', '0.0.0.0', '::1', '::'].includes(host)) {
    return `host must be 127.0.0.1, 0.0.0.0, [::1], [::] or empty: the sidecar forwards to its own workload (got ${showValue(ep)})`;
  }
  const port = /^\d+$/.test(m[3]!) ? Number(m[3]) : NaN;
  return port >= 1 && port <= 65535 ? undefined : `port must be a number between 1 and 65535 (got ${showValue(ep)})`;
}

/** TLS on a sidecar ingress terminates with files mounted in the proxy: no secrets, SAN checks or redirects. */
function ingressTlsRules(l: IstioIngressListener, report: Report): void {
  const tls = l.tls;
  if (tls === undefined) return;
  const unsupported: [keyof ServerTLSSettings, boolean][] = [
    ['subjectAltNames', (tls.subjectAltNames ?? []).length > 0], ['httpsRedirect', tls.httpsRedirect === true],
    ['credentialName', (tls.credentialName ?? '') !== ''], ['credentialNames', (tls.credentialNames ?? []).length > 0],
    ['tlsCertificates', (tls.tlsCertificates ?? []).length > 0],
  ];
  for (const [field, set] of unsupported) {
    if (set) report({ path: ['tls', field], message: `${field} is not supported in Sidecar ingress TLS` });
  }
  if (tls.mode === 'ISTIO_MUTUAL' || tls.mode === 'AUTO_PASSTHROUGH') {
    report({ path: ['tls', 'mode'], message: `mode ${tls.mode} cannot be used in Sidecar ingress TLS` });
  }
  if (!isTlsProtocol(parseProtocol(l.port.protocol ?? ''))) {
    report({ path: ['tls'], message: `TLS settings need an HTTPS or TLS port (port protocol is ${showValue(l.port.protocol ?? '')})` });
  }
}

function ingressRules(l: IstioIngressListener, report: Report): void {
  portBasics(l.port, report);
  const portProblem = ipPortProblem(l.port.number);
  if (portProblem !== undefined) report({ path: ['port', 'number'], message: portProblem });
  bindRule(l.bind, report);
  if (l.defaultEndpoint !== undefined && l.defaultEndpoint !== '') {
    const problem = defaultEndpointProblem(l.defaultEndpoint);
    if (problem !== undefined) report({ path: ['defaultEndpoint'], message: problem });
  }
  ingressTlsRules(l, report);
  if (l.connectionPool?.http !== undefined && !isHttpProtocol(parseProtocol(l.port.protocol ?? ''))) {
    report({
      path: ['connectionPool', 'http'], severity: 'warning',
      message: `HTTP connection pool settings on port ${l.port.number ?? 0} whose protocol is not HTTP (${showValue(l.port.protocol ?? '')}): only the TCP settings apply`,
    });
  }
}

export const IstioIngressListener = rules(
  obj({
    port: SidecarPort,
    bind: str().optional(),
    captureMode: oneOf(CAPTURE_MODES).optional(),
    defaultEndpoint: str().optional(),
    tls: ServerTLSSettings.optional(),
    connectionPool: ConnectionPoolSettings.optional(),
  }),
  (l, report) => ingressRules(l, report),
);
export type IstioIngressListener = z.output<typeof IstioIngressListener>;

/** Port 0 means a unix-socket listener: it needs a `unix://` bind and cannot be captured by iptables. */
function egressPortRules(l: IstioEgressListener, port: SidecarPort, report: Report): void {
  portBasics(port, report);
  const bind = l.bind ?? '';
  if ((port.number ?? 0) === 0) {
    if (!bind.startsWith(UNIX_PREFIX)) {
      report({ path: ['bind'], message: `port 0 is for unix socket listeners: bind must be unix:///path or unix://@name (got ${showValue(bind)})` });
    } else {
      const problem = unixPathProblem(bind.slice(UNIX_PREFIX.length));
      if (problem !== undefined) report({ path: ['bind'], message: problem });
    }
    if (l.captureMode === 'IPTABLES') report({ path: ['captureMode'], message: 'unix socket listeners cannot use captureMode IPTABLES (use DEFAULT or NONE)' });
    return;
  }
  const portProblem = ipPortProblem(port.number);
  if (portProblem !== undefined) report({ path: ['port', 'number'], message: portProblem });
  bindRule(l.bind, report);
}

/** Egress hosts are `namespace/dnsName` with a fully qualified (or `*`-prefixed) name. */
function egressHostProblem(h: string): string | undefined {
  const problem = namespacedHostProblem(h, false);
  if (problem !== undefined) return problem;
  const ns = h.slice(0, h.indexOf('/'));
  const name = h.slice(h.indexOf('/') + 1);
  if (name === '*' || name.includes('.')) return undefined;
  const example = `${name}.${ns === '*' || ns === '.' || ns === '~' ? '<namespace>' : ns}.svc.cluster.local`;
  return `short names are not allowed: use a fully qualified name such as "${example}" (got ${showValue(h)})`;
}

/** Istio warns (not rejects) on hosts another entry of the same namespace already covers. */
function duplicateHostWarnings(hosts: readonly string[], report: Report): void {
  const byNamespace = new Map<string, Set<string>>();
  hosts.forEach((h, i) => {
    const slash = h.indexOf('/');
    if (slash < 0) return;
    const ns = h.slice(0, slash);
    const name = h.slice(slash + 1);
    const seen = byNamespace.get(ns) ?? new Set<string>();
    byNamespace.set(ns, seen);
    const covered = name === '*' ? seen.size > 0 : seen.has(name) || seen.has('*');
    if (covered) report({ path: ['hosts', i], severity: 'warning', message: `duplicate egress host ${showValue(h)}: another entry for namespace ${showValue(ns)} already covers it` });
    seen.add(name);
  });
  if (byNamespace.get('*')?.has('*') === true && byNamespace.size > 1) {
    report({ path: ['hosts'], severity: 'warning', message: '"*/*" already selects every service: the other hosts add nothing' });
  }
}

export const IstioEgressListener = rules(
  obj({
    port: SidecarPort.optional(),
    bind: str().optional(),
    captureMode: oneOf(CAPTURE_MODES).optional(),
    hosts: z.array(str()),
  }),
  (l, report) => {
    if (l.port !== undefined) egressPortRules(l, l.port, report);
    if (l.hosts.length === 0) report({ path: ['hosts'], message: 'an egress listener needs at least one host, e.g. "./*" or "istio-system/*"' });
    l.hosts.forEach((h, i) => {
      const problem = egressHostProblem(h);
      if (problem !== undefined) report({ path: ['hosts', i], message: problem });
    });
    duplicateHostWarnings(l.hosts, report);
  },
);
export type IstioEgressListener = z.output<typeof IstioEgressListener>;

export const OUTBOUND_TRAFFIC_MODES = ['REGISTRY_ONLY', 'ALLOW_ANY'] as const;

/** `egressProxy` receives the traffic ALLOW_ANY lets out to unknown destinations. */
export const OutboundTrafficPolicy = rules(
  obj({
    mode: oneOf(OUTBOUND_TRAFFIC_MODES).optional(),
    egressProxy: Destination.optional(),
  }),
  (p, report) => {
    const proxy = p.egressProxy;
    if (proxy === undefined) return;
    if (p.mode !== 'ALLOW_ANY') {
      report({ path: ['egressProxy'], message: `egressProxy only applies with mode ALLOW_ANY (mode is ${p.mode ?? 'REGISTRY_ONLY, the default'})` });
      return;
    }
    if (proxy.host.includes('*')) report({ path: ['egressProxy', 'host'], message: `must be a fully qualified domain name without wildcards (got ${showValue(proxy.host)})` });
    else {
      const problem = fqdnProblem(proxy.host);
      if (problem !== undefined) report({ path: ['egressProxy', 'host'], message: problem });
    }
    if (proxy.port === undefined) report({ path: ['egressProxy', 'port'], message: 'egressProxy needs a port' });
  },
);
export type OutboundTrafficPolicy = z.output<typeof OutboundTrafficPolicy>;

const Fields = obj({
  workloadSelector: WorkloadSelector.optional(),
  ingress: z.array(IstioIngressListener).optional(),
  egress: z.array(IstioEgressListener).optional(),
  inboundConnectionPool: ConnectionPoolSettings.optional(),
  outboundTrafficPolicy: OutboundTrafficPolicy.optional(),
});

/** Ingress ports and egress ports / unix sockets must each be unique; a port-less egress listener catches the rest, last. */
function listenerUniqueness(s: z.output<typeof Fields>, report: Report): void {
  const ingressPorts = new Map<number, number>();
  (s.ingress ?? []).forEach((l, i) => {
    const n = l.port.number ?? 0;
    const prev = ingressPorts.get(n);
    if (prev !== undefined) report({ path: ['ingress', i, 'port', 'number'], message: `port ${n} is already used by ingress[${prev}]` });
    else ingressPorts.set(n, i);
  });
  const egressPorts = new Map<number, number>();
  const sockets = new Map<string, number>();
  const egress = s.egress ?? [];
  egress.forEach((l, i) => {
    if (l.port === undefined) {
      if (i !== egress.length - 1) report({ path: ['egress', i], message: 'the egress listener without a port catches all remaining traffic, so it must be the last (and only one) in the list' });
      return;
    }
    const n = l.port.number ?? 0;
    if (n === 0) {
      const bind = l.bind ?? '';
      const prev = sockets.get(bind);
      if (prev !== undefined) report({ path: ['egress', i, 'bind'], message: `unix socket ${showValue(bind)} is already used by egress[${prev}]` });
      else sockets.set(bind, i);
      return;
    }
    const prev = egressPorts.get(n);
    if (prev !== undefined) report({ path: ['egress', i, 'port', 'number'], message: `port ${n} is already used by egress[${prev}]` });
    else egressPorts.set(n, i);
  });
}

export const SidecarSpec = rules(Fields, (s, report) => {
  workloadSelectorRules(s.workloadSelector, ['workloadSelector'], report);
  if ((s.ingress ?? []).length === 0 && (s.egress ?? []).length === 0 && s.outboundTrafficPolicy === undefined && s.inboundConnectionPool === undefined) {
    report({ message: 'a Sidecar must configure at least one of ingress, egress, outboundTrafficPolicy, inboundConnectionPool' });
  }
  listenerUniqueness(s, report);
});
export type SidecarSpec = z.output<typeof SidecarSpec>;

export const Sidecar = defineKind({
  kind: 'Sidecar',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'sidecars',
  shortNames: [],
  spec: SidecarSpec,
});
