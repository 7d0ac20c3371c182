/**
 * VirtualServices bound to gateways: the gateway must exist (IST0101), the VirtualService's hosts must
 * be served by one of its servers (IST0132, else the routes are never used), and routing on JWT claims
 * needs a RequestAuthentication for the gateway workload (IST0149, else the claims are never there).
 */
import type { Analyzer, Report } from '../analyzer.ts';
import type { AnalysisContext } from '../context.ts';
import { labelsMatch, ROOT_NAMESPACE } from '../context.ts';
import { MSG } from '../messages.ts';
import { hostsOverlap } from '../../api/index.ts';
import { gatewayKey, gatewaysOf, type VirtualServiceResource } from './walk.ts';
import type { ResourceOf } from '../../api/index.ts';

type GatewayResource = ResourceOf<'Gateway'>;

/** Whether a Gateway server host (`ns/host` or `host`) admits `vsHost` from a VirtualService in `vsNs`. */
function serverAdmits(serverHost: string, gwNs: string, vsHost: string, vsNs: string): boolean {
  const slash = serverHost.indexOf('/');
  const ns = slash < 0 ? '*' : serverHost.slice(0, slash);
  const host = slash < 0 ? serverHost : serverHost.slice(slash + 1);
  if (ns !== '*' && !(ns === '.' ? gwNs === vsNs : ns === vsNs)) return false;
  return hostsOverlap(host, vsHost);
}

function checkHosts(vs: VirtualServiceResource, gw: GatewayResource, ref: string, index: number, report: Report): void {
  const missing = (vs.spec.hosts ?? []).filter((h) =>
    !gw.spec.servers.some((s) => s.hosts.some((sh) => serverAdmits(sh, gw.metadata.namespace, h, vs.metadata.namespace))));
  if (missing.length > 0) {
    report({
      type: MSG.VirtualServiceHostNotFoundInGateway, resource: vs, path: ['spec', 'gateways', index],
      message: `one or more host [${missing.join(' ')}] defined in VirtualService ${vs.metadata.namespace}/${vs.metadata.name} not found in Gateway ${ref}.`,
    });
  }
}

function usesClaimRouting(vs: VirtualServiceResource): string | undefined {
  for (const h of vs.spec.http ?? []) {
    for (const m of h.match ?? []) {
      for (const k of [...Object.keys(m.headers ?? {}), ...Object.keys(m.withoutHeaders ?? {})]) {
        if (k.startsWith('@request.auth.claims')) return k;
      }
    }
  }
  return undefined;
}

function hasRequestAuthn(ctx: AnalysisContext, gw: GatewayResource): boolean {
  const labels = gw.spec.selector ?? {};
  return ctx.of('RequestAuthentication').some((ra) => {
    const sel = ra.spec.selector?.matchLabels;
    const inScope = ra.metadata.namespace === gw.metadata.namespace || ra.metadata.namespace === ROOT_NAMESPACE;
    return inScope && (sel === undefined || labelsMatch(sel, labels));
  });
}

export const gatewayRefs: Analyzer = {
  name: 'gateway-refs',
  description: 'VirtualService gateways exist, serve its hosts, and have JWT authentication when claims are routed on',
  run(ctx, report) {
    const gateways = new Map(ctx.of('Gateway').map((g) => [`${g.metadata.namespace}/${g.metadata.name}`, g]));
    for (const vs of ctx.of('VirtualService')) {
      const claim = usesClaimRouting(vs);
      gatewaysOf(vs).forEach((ref, i) => {
        if (ref === 'mesh') return;
        const gw = gateways.get(gatewayKey(ref, vs.metadata.namespace));
        if (gw === undefined) {
          const path = vs.spec.gateways === undefined ? ['spec'] : ['spec', 'gateways', i];
          report({ type: MSG.ReferencedResourceNotFound, resource: vs, path, message: `Referenced gateway not found: ${JSON.stringify(ref)}` });
          return;
        }
        checkHosts(vs, gw, ref, i, report);
        if (claim !== undefined && !hasRequestAuthn(ctx, gw)) {
          report({
            type: MSG.JwtClaimBasedRoutingWithoutRequestAuthN, resource: vs, path: ['spec', 'http'],
            message: `The virtual service uses JWT claim based routing (key: ${claim}) but no RequestAuthentication applies to the workloads of gateway ${ref}; add one so the claims are validated and available for routing.`,
          });
        }
      });
      (vs.spec.http ?? []).forEach((h, i) => (h.match ?? []).forEach((m, j) => (m.gateways ?? []).forEach((ref, k) => {
        if (ref !== 'mesh' && !gateways.has(gatewayKey(ref, vs.metadata.namespace))) {
          report({ type: MSG.ReferencedResourceNotFound, resource: vs, path: ['spec', 'http', i, 'match', j, 'gateways', k], message: `Referenced gateway not found: ${JSON.stringify(ref)}` });
        }
      })));
    }
  },
};
