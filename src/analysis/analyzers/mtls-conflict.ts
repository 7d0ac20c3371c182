/**
 * IST0113: a DestinationRule's client TLS contradicts the PeerAuthentication of the workloads behind
 * its host. DISABLE towards STRICT workloads is refused by the server; ISTIO_MUTUAL towards DISABLE
 * workloads sends TLS to a plain-text port. Either way every request fails.
 * PeerAuthentication precedence (as Istio): workload selector > namespace > mesh (root namespace) > PERMISSIVE;
 * UNSET inherits from the next level.
 */
import type { Analyzer } from '../analyzer.ts';
import { labelsMatch, ROOT_NAMESPACE, type AnalysisContext, type ServiceInfo } from '../context.ts';
import { MSG } from '../messages.ts';
import type { ResourceOf } from '../../api/index.ts';

type PeerAuthn = ResourceOf<'PeerAuthentication'>;

interface EffectiveMode {
  readonly mode: string;
  readonly policy?: PeerAuthn;
}

function modeOf(pa: PeerAuthn, targetPort: number | undefined): string | undefined {
  const port = targetPort === undefined ? undefined : pa.spec.portLevelMtls?.[String(targetPort)]?.mode;
  const m = port !== undefined && port !== 'UNSET' ? port : pa.spec.mtls?.mode;
  return m === undefined || m === 'UNSET' ? undefined : m;
}

/** The mTLS mode enforced on the workloads selected by `svc` (a Service with a selector). */
export function effectivePeerMode(ctx: AnalysisContext, svc: ServiceInfo, targetPort?: number): EffectiveMode {
  const pas = ctx.of('PeerAuthentication');
  const selector = svc.selector ?? {};
  const levels: PeerAuthn[][] = [
    pas.filter((p) => p.metadata.namespace === svc.namespace && p.spec.selector?.matchLabels !== undefined && labelsMatch(p.spec.selector.matchLabels, selector)),
    pas.filter((p) => p.metadata.namespace === svc.namespace && p.spec.selector === undefined),
    pas.filter((p) => p.metadata.namespace === ROOT_NAMESPACE && p.spec.selector === undefined),
  ];
  for (const level of levels) {
    for (const pa of level) {
      const m = modeOf(pa, targetPort);
      if (m !== undefined) return { mode: m, policy: pa };
    }
  }
  return { mode: 'PERMISSIVE' };
}

export const mtlsConflict: Analyzer = {
  name: 'mtls-conflict',
  description: 'DestinationRule TLS modes agree with the PeerAuthentication of their workloads',
  run(ctx, report) {
    for (const dr of ctx.of('DestinationRule')) {
      const host = ctx.resolve(dr.spec.host, dr.metadata.namespace);
      const svc = ctx.servicesFor(host, dr.metadata.namespace).find((s) => s.resource.kind === 'Service');
      if (svc === undefined) continue;
      const checks: { mode: string | undefined; path: (string | number)[]; port?: number }[] = [
        { mode: dr.spec.trafficPolicy?.tls?.mode, path: ['spec', 'trafficPolicy', 'tls', 'mode'] },
        ...(dr.spec.trafficPolicy?.portLevelSettings ?? []).map((pl, i) => ({
          mode: pl.tls?.mode, path: ['spec', 'trafficPolicy', 'portLevelSettings', i, 'tls', 'mode'], ...(pl.port?.number !== undefined ? { port: pl.port.number } : {}),
        })),
      ];
      for (const c of checks) {
        if (c.mode !== 'DISABLE' && c.mode !== 'ISTIO_MUTUAL') continue;
        const sp = c.port === undefined ? undefined : svc.ports.find((p) => p.number === c.port);
        const target = typeof sp?.targetPort === 'number' ? sp.targetPort : sp?.number;
        const peer = effectivePeerMode(ctx, svc, target);
        const wantsMtls = c.mode === 'ISTIO_MUTUAL';
        if ((!wantsMtls && peer.mode === 'STRICT') || (wantsMtls && peer.mode === 'DISABLE')) {
          const policy = peer.policy === undefined ? 'default' : `${peer.policy.metadata.namespace}/${peer.policy.metadata.name}`;
          report({
            type: MSG.MTLSPolicyConflict, resource: dr, path: c.path,
            message: `A DestinationRule and Policy are in conflict with regards to mTLS for host ${host}. The DestinationRule "${dr.metadata.namespace}/${dr.metadata.name}" specifies that mTLS must be ${wantsMtls} but the Policy object "${policy}" specifies ${peer.mode}.`,
          });
        }
      }
    }
  },
};
