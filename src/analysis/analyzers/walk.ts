/** Walks the parts of VirtualServices that several analyzers read: destinations and bound gateways. */
import type { FieldPath, ResourceOf } from '../../api/index.ts';

export type VirtualServiceResource = ResourceOf<'VirtualService'>;

export interface DestinationRef {
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
  readonly path: FieldPath;
}

/** Every destination a VirtualService sends traffic to (routes and mirrors), with its field path. */
export function destinationsOf(vs: VirtualServiceResource): DestinationRef[] {
  const out: DestinationRef[] = [];
  const add = (d: { host: string; subset?: string; port?: { number?: number } } | undefined, path: FieldPath) => {
    if (d === undefined) return;
    out.push({ host: d.host, ...(d.subset ? { subset: d.subset } : {}), ...(d.port?.number !== undefined ? { port: d.port.number } : {}), path });
  };
  (vs.spec.http ?? []).forEach((h, i) => {
    (h.route ?? []).forEach((r, j) => add(r.destination, ['spec', 'http', i, 'route', j, 'destination']));
    add(h.mirror, ['spec', 'http', i, 'mirror']);
    (h.mirrors ?? []).forEach((m, j) => add(m.destination, ['spec', 'http', i, 'mirrors', j, 'destination']));
  });
  (vs.spec.tcp ?? []).forEach((t, i) => (t.route ?? []).forEach((r, j) => add(r.destination, ['spec', 'tcp', i, 'route', j, 'destination'])));
  (vs.spec.tls ?? []).forEach((t, i) => (t.route ?? []).forEach((r, j) => add(r.destination, ['spec', 'tls', i, 'route', j, 'destination'])));
  return out;
}

/** The gateways a VirtualService is bound to; no `gateways` field means the mesh (sidecars) only. */
export function gatewaysOf(vs: VirtualServiceResource): readonly string[] {
  const g = vs.spec.gateways;
  return g === undefined || g.length === 0 ? ['mesh'] : g;
}

/** `ns/name` of a gateway reference made from namespace `ns` (Istio's forms, as translation reads them). */
export { gatewayRef as gatewayKey } from '../../api/index.ts';
