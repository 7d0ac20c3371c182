/**
 * IST0109: two VirtualServices bound to the mesh (sidecars) for the same host, visible in a common
 * namespace. Sidecars take only one of them (the oldest), so the other's routes silently do nothing.
 */
import type { Analyzer } from '../analyzer.ts';
import { MSG } from '../messages.ts';
import { gatewaysOf, type VirtualServiceResource } from './walk.ts';

/** The namespaces a resource is visible in, as a test. Default export: everywhere. */
function exportOverlap(a: VirtualServiceResource, b: VirtualServiceResource): boolean {
  const set = (r: VirtualServiceResource) => (r.spec.exportTo ?? ['*']).map((e) => (e === '.' ? r.metadata.namespace : e));
  const ea = set(a);
  const eb = set(b);
  if (ea.includes('~') || eb.includes('~')) return false;
  if (ea.includes('*') || eb.includes('*')) return true;
  return ea.some((n) => eb.includes(n));
}

export const meshHostConflicts: Analyzer = {
  name: 'mesh-host-conflicts',
  description: 'no two mesh VirtualServices define the same host',
  run(ctx, report) {
    const byHost = new Map<string, { vs: VirtualServiceResource; index: number }[]>();
    for (const vs of ctx.of('VirtualService')) {
      if (!gatewaysOf(vs).includes('mesh')) continue;
      (vs.spec.hosts ?? []).forEach((h, index) => {
        const host = ctx.resolve(h, vs.metadata.namespace);
        const list = byHost.get(host) ?? [];
        list.push({ vs, index });
        byHost.set(host, list);
      });
    }
    for (const [host, entries] of byHost) {
      if (entries.length < 2) continue;
      for (const e of entries) {
        const others = entries.filter((o) => o.vs !== e.vs && exportOverlap(o.vs, e.vs));
        if (others.length === 0) continue;
        const names = [e, ...others].map((x) => `${x.vs.metadata.namespace}/${x.vs.metadata.name}`).sort().join(',');
        report({
          type: MSG.ConflictingMeshGatewayVirtualServiceHosts, resource: e.vs, path: ['spec', 'hosts', e.index],
          message: `The VirtualServices ${names} associated with mesh gateway define the same host ${host} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`,
        });
      }
    }
  },
};
