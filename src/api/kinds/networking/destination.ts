/**
 * `Destination` and `PortSelector`: the service (and subset and port) a route, mirror or egress proxy
 * sends traffic to. Used by VirtualService routes and mirrors, and Sidecar's egressProxy.
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#Destination
 */
import * as z from 'zod';
import { check, obj } from '../../schema/object.ts';
import { port, str } from '../../schema/primitives.ts';
import { dns1123LabelProblem, wildcardHostProblem } from '../../schema/names.ts';

/** The port of the destination service; only `number` remains (the old `name` selector was removed). */
export const PortSelector = obj({ number: port() });
export type PortSelector = z.output<typeof PortSelector>;

/**
 * A destination host is a registry service name: a short name (`reviews`), an FQDN, or a `*.`-prefixed
 * name matching a wildcard ServiceEntry. A bare `*` names no service, so Istio rejects it.
 */
export function destinationHostProblem(host: string): string | undefined {
  if (host === '*') return 'destination host cannot be "*": name a service, e.g. "reviews" or "reviews.default.svc.cluster.local"';
  return wildcardHostProblem(host);
}

/** Subsets are DestinationRule subset names, which Istio requires to be DNS-1123 labels ("" means unset). */
export function subsetNameProblem(name: string): string | undefined {
  return name === '' ? undefined : dns1123LabelProblem(name);
}

export const Destination = obj({
  host: check(str(), destinationHostProblem),
  subset: check(str(), subsetNameProblem).optional(),
  port: PortSelector.optional(),
});
export type Destination = z.output<typeof Destination>;
