/**
 * Gateway (networking.istio.io): a load balancer at the mesh edge — which ports it opens, with which
 * protocol and TLS, for which hosts. https://istio.io/latest/docs/reference/config/networking/gateway/
 */
import * as z from 'zod';
import { check, obj, rules, type RuleIssue } from '../../schema/object.ts';
import { str, selectorLabels } from '../../schema/primitives.ts';
import { namespacedHostProblem } from '../../schema/names.ts';
import { ipProblem, UNIX_PREFIX, unixPathProblem } from '../../schema/net.ts';
import { defineKind } from '../kind.ts';
import { isHttpProtocol, isTlsProtocol, parseProtocol } from '../../protocol.ts';
import { Port, ServerTLSSettings } from './shared.ts';

const Server = rules(
  obj({
    port: Port,
    bind: str().optional(),
    hosts: z.array(check(str(), (h) => namespacedHostProblem(h, true))).min(1),
    tls: ServerTLSSettings.optional(),
    name: str().optional(),
    defaultEndpoint: str().optional(),
  }),
  (s, report) => serverRules(s, report),
);
export type Server = z.output<typeof Server>;

function serverRules(s: Server, report: (i: RuleIssue) => void): void {
  const bind = s.bind ?? '';
  const unix = bind.startsWith(UNIX_PREFIX);
  if (unix) {
    const p = unixPathProblem(bind.slice(UNIX_PREFIX.length));
    if (p !== undefined) report({ path: ['bind'], message: p });
    if (s.port.number !== 0) report({ path: ['port', 'number'], message: `must be 0 when binding a unix socket (got ${s.port.number})` });
  } else {
    if (bind !== '') {
      const p = ipProblem(bind);
      if (p !== undefined) report({ path: ['bind'], message: p });
    }
    if (s.port.number === 0) report({ path: ['port', 'number'], message: 'must be between 1 and 65535 (got 0; 0 is only for unix socket binds)' });
  }
  if (s.port.targetPort !== undefined && s.port.targetPort > 0) report({ path: ['port', 'targetPort'], message: 'targetPort has no effect on Gateways' });
  const proto = parseProtocol(s.port.protocol);
  if (proto === undefined) return;
  if (isTlsProtocol(proto) && s.tls === undefined) {
    report({ path: ['tls'], message: `${s.port.protocol} servers need tls settings` });
  } else if (!isTlsProtocol(proto) && s.tls !== undefined) {
    const t = s.tls;
    const redirectOnly = !t.serverCertificate && !t.privateKey && !t.caCertificates && (t.mode === undefined || t.mode === 'PASSTHROUGH');
    if (!isHttpProtocol(proto)) report({ path: ['tls'], message: `tls settings are only allowed on HTTPS and TLS servers (port protocol is ${s.port.protocol})` });
    else if (!redirectOnly) report({ path: ['tls'], message: 'plain-text HTTP servers may only set tls.httpsRedirect' });
  }
  if (s.tls?.httpsRedirect && !isHttpProtocol(proto)) {
    report({ path: ['tls', 'httpsRedirect'], severity: 'warning', message: 'httpsRedirect only applies to HTTP servers' });
  }
}

export const GatewaySpec = rules(
  obj({
    servers: z.array(Server).min(1),
    selector: selectorLabels().optional(),
  }),
  (g, report) => {
    const names = new Map<string, number>();
    g.servers.forEach((s, i) => {
      const prev = names.get(s.port.name);
      if (prev !== undefined) report({ path: ['servers', i, 'port', 'name'], message: `port names must be unique across servers: ${JSON.stringify(s.port.name)} is also used by servers[${prev}]` });
      names.set(s.port.name, i);
    });
  },
);
export type GatewaySpec = z.output<typeof GatewaySpec>;

export const Gateway = defineKind({
  kind: 'Gateway',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  plural: 'gateways',
  shortNames: ['gw'],
  nameRule: 'dns1123-label',
  spec: GatewaySpec,
});
