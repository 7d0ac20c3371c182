/**
 * IST0118: a Service port whose protocol the mesh cannot tell from its name prefix (`http-…`, `grpc`…)
 * or `appProtocol`. Traffic still flows, but as sniffed/opaque TCP: no HTTP routing, retries or
 * per-request metrics on that port. https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
import type { Analyzer } from '../analyzer.ts';
import { MSG } from '../messages.ts';
import { servicePortProtocol } from '../../api/index.ts';

export const servicePorts: Analyzer = {
  name: 'service-ports',
  description: 'Service ports declare their protocol (name prefix or appProtocol)',
  run(ctx, report) {
    for (const svc of ctx.of('Service')) {
      (svc.spec.ports ?? []).forEach((p, i) => {
        if ((p.protocol ?? 'TCP') === 'UDP' || servicePortProtocol(p) !== undefined) return;
        report({
          type: MSG.PortNameIsNotUnderNamingConvention, resource: svc, path: ['spec', 'ports', i, p.name === undefined ? 'port' : 'name'],
          message: `Port name ${p.name ?? '(unnamed)'} (port: ${p.port}, targetPort: ${p.targetPort ?? p.port}) doesn't follow the naming convention of Istio port: name it <protocol>[-suffix] (e.g. http-web, grpc) or set appProtocol, or the mesh treats it as opaque TCP.`,
        });
      });
    }
  },
};
