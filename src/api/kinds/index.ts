/**
 * Every kind weft reads, and lookup by apiVersion/kind or by the CLI's names (plural, short names).
 * Adding a kind: define it in its module and list it here; the type map below follows.
 */
import type * as z from 'zod';
import type { KindDef } from './kind.ts';
import type { Resource } from '../resource.ts';
import { VirtualService } from './networking/virtual-service.ts';
import { DestinationRule } from './networking/destination-rule.ts';
import { Gateway } from './networking/gateway.ts';
import { ServiceEntry } from './networking/service-entry.ts';
import { WorkloadEntry } from './networking/workload-entry.ts';
import { WorkloadGroup } from './networking/workload-group.ts';
import { Sidecar } from './networking/sidecar.ts';
import { PeerAuthentication } from './security/peer-authentication.ts';
import { RequestAuthentication } from './security/request-authentication.ts';
import { AuthorizationPolicy } from './security/authorization-policy.ts';
import { Telemetry } from './telemetry/telemetry.ts';
import { Service } from './core/service.ts';
import { Namespace } from './core/namespace.ts';
import { closest } from '../schema/suggest.ts';

export const KINDS = [
  VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry, WorkloadGroup, Sidecar,
  PeerAuthentication, RequestAuthentication, AuthorizationPolicy, Telemetry, Service, Namespace,
] as const;

type Kinds = (typeof KINDS)[number];
export type KindName = Kinds['kind'];

/** The spec type of each kind, e.g. `SpecOf<'VirtualService'>`. */
export type SpecOf<K extends KindName> = z.output<Extract<Kinds, { kind: K }>['spec']>;

/** A validated resource of a known kind; `r.kind === 'VirtualService'` narrows `r.spec`. */
export type AnyResource = { [K in KindName]: Resource<K, SpecOf<K>> }[KindName];
export type ResourceOf<K extends KindName> = Resource<K, SpecOf<K>>;

const BY_KIND: ReadonlyMap<string, KindDef> = new Map(KINDS.map((k) => [k.kind, k as KindDef]));
const BY_NAME: ReadonlyMap<string, KindDef> = new Map(
  KINDS.flatMap((k) => [k.kind.toLowerCase(), k.plural, k.kind.toLowerCase().replace(/s?$/, 's'), ...k.shortNames].map((n) => [n, k as KindDef] as const)),
);

export function kindByName(kind: string): KindDef | undefined {
  return BY_KIND.get(kind);
}

/** Resolves what a user typed on the command line (`vs`, `virtualservices`, `VirtualService`). */
export function kindByCliName(name: string): KindDef | undefined {
  return BY_KIND.get(name) ?? BY_NAME.get(name.toLowerCase());
}

export function kindNames(): string[] {
  return KINDS.map((k) => k.kind);
}

export function suggestKind(kind: string): string | undefined {
  return closest(kind, kindNames());
}
