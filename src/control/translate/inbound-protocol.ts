/**
 * The protocol of a workload's own ports (what its inbound listener and inbound cluster speak): from a
 * Service of its namespace that selects it and targets the port, else from the container port's name,
 * as Istio decides it. Which Services select a proxy is looked up through a per-push index on one
 * selector label, so a thousand proxies in a namespace of a thousand Services do not cost a million
 * selector matches per push.
 */
import type { PushContext } from '../push/push-context.ts';
import type { Proxy } from '../proxy.ts';
import type { Service } from '../../registry/model.ts';
import { parseProtocol, selects, servicePortProtocol, type Protocol } from '../../api/index.ts';

interface SelectorIndex {
  /** Services whose selector is empty (it selects every workload). */
  readonly always: readonly Service[];
  /** Services by the first `key=value` of their selector (keys sorted). */
  readonly byLabel: ReadonlyMap<string, readonly Service[]>;
  /** Position in the namespace's list, to keep the registry's order. */
  readonly order: ReadonlyMap<Service, number>;
}

function selectorIndex(ctx: PushContext, namespace: string): SelectorIndex {
  const key = `selector-index|${namespace}`;
  let index = ctx.memo.get(key) as SelectorIndex | undefined;
  if (index !== undefined) return index;
  const always: Service[] = [];
  const byLabel = new Map<string, Service[]>();
  const order = new Map<Service, number>();
  for (const svc of ctx.registry.services) {
    if (svc.namespace !== namespace || svc.selector === undefined) continue;
    order.set(svc, order.size);
    const first = Object.keys(svc.selector).sort()[0];
    if (first === undefined) {
      always.push(svc);
      continue;
    }
    const label = `${first}=${svc.selector[first]}`;
    const list = byLabel.get(label);
    if (list === undefined) byLabel.set(label, [svc]);
    else list.push(svc);
  }
  index = { always, byLabel, order };
  ctx.memo.set(key, index);
  return index;
}

/** The Services of the proxy's namespace that select it, in registry order. */
export function servicesSelecting(ctx: PushContext, proxy: Proxy): readonly Service[] {
  const selecting = ctx.perProxy<readonly Service[]>('selecting');
  const hit = selecting.get(proxy);
  if (hit !== undefined) return hit;
  const index = selectorIndex(ctx, proxy.namespace);
  const found = new Set<Service>(index.always);
  for (const [k, v] of Object.entries(proxy.labels)) for (const svc of index.byLabel.get(`${k}=${v}`) ?? []) if (selects(svc.selector!, proxy.labels)) found.add(svc);
  const services = [...found].sort((a, b) => index.order.get(a)! - index.order.get(b)!);
  selecting.set(proxy, services);
  return services;
}

/** The protocol of a workload port: from a Service targeting it, else the container port's name. */
export function inboundProtocol(ctx: PushContext, proxy: Proxy, containerPort: number, portName: string | undefined): Protocol | undefined {
  for (const svc of servicesSelecting(ctx, proxy)) {
    for (const p of svc.ports) {
      if (p.targetPort === containerPort || (typeof p.targetPort === 'string' && p.targetPort === portName)) {
        if (p.protocol !== undefined) return p.protocol;
      }
    }
  }
  return portName === undefined ? undefined : servicePortProtocol({ name: portName }) ?? parseProtocol(portName);
}

/** The protocols of all of a proxy's ports, as a key: proxies with equal keys get equal inbound clusters. */
export function inboundProtocolsKey(ctx: PushContext, proxy: Proxy): string {
  return proxy.ports.map((p) => `${p.containerPort}:${inboundProtocol(ctx, proxy, p.containerPort, p.name) ?? ''}`).join(',');
}
