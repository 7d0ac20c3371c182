/**
 * `/config_dump` in Envoy's shape (envoy.admin.v3.ConfigDump), in Envoy's order: the bootstrap (node),
 * clusters, endpoints with `?include_eds`, listeners and routes, each resource with the xDS version and
 * update time it arrived with, and only those whose name matches `?name_regex=` when given.
 * Resources are proto3 JSON under the proto field names, as Envoy prints them (`resourceToJson`: from
 * the bytes received, or re-encoded from the decoded objects the parts hold), with every Any expanded
 * under its `@type`. `?resource=` and `?mask=` are applied afterwards (dump-query.ts).
 * Built on request, never on the data path: it allocates freely.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--config_dump
 */
import { resourceDumpJson, resourceToJson } from '../../xds/protos.ts';
import { TYPE, collectionOf } from '../../xds/type-urls.ts';
import type { Proto } from '../core/contracts.ts';
import type { ListenerManager } from '../listener/index.ts';
import type { ClusterManagerImpl } from '../upstream/index.ts';
import { clustersConfigDump, endpointsConfigDump } from '../upstream/index.ts';
import type { HeldResource, NodeProto, XdsClient } from '../xds/index.ts';

export interface DumpSources {
  readonly node: NodeProto;
  readonly xds: XdsClient;
  readonly clusters: ClusterManagerImpl;
  readonly listeners: ListenerManager;
}

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';

function heldJson(typeUrl: string, held: HeldResource): Record<string, unknown> {
  try {
    return { '@type': typeUrl, ...(resourceToJson(typeUrl, held.body) as Record<string, unknown>) };
  } catch {
    return resourceDumpJson(typeUrl, held.resource);
  }
}

function typeVersion(xds: XdsClient, typeUrl: string): string {
  return xds.status().types.find((t) => t.typeUrl === typeUrl)?.version ?? '';
}

function byName(xds: XdsClient, typeUrl: string): Map<string, HeldResource> {
  return new Map(xds.resources(typeUrl).map((r) => [r.name, r]));
}

function listenersDump(s: DumpSources, named: (name: string) => boolean): Record<string, unknown> {
  const held = byName(s.xds, TYPE.listener);
  const dump = s.listeners.dump();
  const state = (name: string, listener: Proto) => {
    const h = held.get(name);
    return {
      ...(h !== undefined ? { version_info: h.version, last_updated: new Date(h.updatedAt).toISOString() } : {}),
      listener: resourceDumpJson(TYPE.listener, listener),
    };
  };
  const names = new Set([...dump.active.map((l) => l.name), ...dump.warming.map((l) => l.name)]);
  const dynamic = [...names].filter(named).sort().map((name) => {
    const active = dump.active.find((l) => l.name === name);
    const warming = dump.warming.find((l) => l.name === name);
    return {
      name,
      ...(active !== undefined ? { active_state: state(name, active.listener) } : {}),
      ...(warming !== undefined ? { warming_state: state(name, warming.listener) } : {}),
    };
  });
  return {
    '@type': `${ADMIN}ListenersConfigDump`,
    version_info: typeVersion(s.xds, TYPE.listener),
    static_listeners: [],
    dynamic_listeners: dynamic,
  };
}

function routesDump(s: DumpSources, named: (name: string) => boolean): Record<string, unknown> {
  // VHDS virtual hosts are shown inside their route configuration, after its inline ones, as in force.
  const vhds = new Map<string, Record<string, unknown>[]>();
  for (const vh of s.xds.resources(TYPE.virtualHost).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rc = collectionOf(vh.name);
    vhds.set(rc, [...(vhds.get(rc) ?? []), heldJson(TYPE.virtualHost, vh)]);
  }
  return {
    '@type': `${ADMIN}RoutesConfigDump`,
    static_route_configs: [],
    dynamic_route_configs: s.xds.resources(TYPE.route).filter((r) => named(r.name)).map((r) => {
      const json = heldJson(TYPE.route, r);
      const extra = vhds.get(r.name)?.map(({ '@type': _t, ...vh }) => vh);
      if (extra !== undefined) json['virtual_hosts'] = [...((json['virtual_hosts'] as unknown[] | undefined) ?? []), ...extra];
      return { version_info: r.version, route_config: json, last_updated: new Date(r.updatedAt).toISOString() };
    }),
  };
}

function bootstrapDump(s: DumpSources): Record<string, unknown> {
  return {
    '@type': `${ADMIN}BootstrapConfigDump`,
    bootstrap: { node: { id: s.node.id, cluster: s.node.cluster, user_agent_name: s.node.userAgentName, user_agent_version: s.node.userAgentVersion } },
  };
}

export interface DumpOptions {
  readonly includeEds?: boolean;
  /** Which resources to show, by name (`?name_regex=`, matched against the whole name); default all. */
  readonly named?: (name: string) => boolean;
}

/** The whole dump, in Envoy's order (bootstrap, clusters, endpoints, listeners, routes). */
export function configDump(s: DumpSources, options: DumpOptions = {}): { configs: Record<string, unknown>[] } {
  const named = options.named ?? (() => true);
  const eds = byName(s.xds, TYPE.endpoint);
  const versions = { clusters: typeVersion(s.xds, TYPE.cluster), endpoints: (name: string) => eds.get(name)?.version, named };
  const configs = [bootstrapDump(s), clustersConfigDump(s.clusters, versions)];
  if (options.includeEds === true) configs.push(endpointsConfigDump(s.clusters, versions));
  configs.push(listenersDump(s, named), routesDump(s, named));
  return { configs };
}
