/**
 * `/config_dump`'s query parameters, as Envoy's `ConfigDumpHandler` reads them:
 * - `name_regex=` keeps the resources whose name the RE2 expression matches as a whole (a bad one: 400
 *   `INVALID_ARGUMENT: Error while parsing name_regex from …`);
 * - `resource=` names a repeated field of one of the dump's messages (`dynamic_active_clusters`,
 *   `dynamic_listeners`, `dynamic_route_configs`, `dynamic_endpoint_configs` with `include_eds`…): the
 *   dump becomes its elements, each under its own `@type` (`…ClustersConfigDump.DynamicCluster`); a
 *   field that is not repeated is 400, a name no message has is 404;
 * - `mask=` (a FieldMask, comma-separated paths) trims each element of `resource`, where a bad mask is
 *   400; without `resource`, it trims each dump message it fits, drops those it does not, and is 400
 *   when it fits none.
 * Fields are found by reflection on the envoy.admin.v3 types (loaded on first use), so the names are
 * the protos' own, as in Envoy.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--config_dump?resource={}
 */
import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';
import { findMessageType } from '../../xds/protos.ts';
import { fieldByProtoName } from '../../xds/proto-json.ts';
import { engine as re2 } from '../http/router/regex.ts';
import { applyFieldMask, parseFieldMask } from './field-mask.ts';

export type DumpQueryResult =
  | { readonly ok: true; readonly configs: Record<string, unknown>[] }
  | { readonly ok: false; readonly status: 400 | 404; readonly message: string };

/** `name_regex` as a whole-name matcher; undefined when absent or empty (every name). */
export function nameMatcher(regex: string | null): { readonly named?: (name: string) => boolean; readonly error?: string } {
  if (regex === null || regex === '') return {};
  try {
    const re = re2().compile(regex);
    return { named: (name) => re.testExact(name) };
  } catch (e) {
    return { error: `INVALID_ARGUMENT: Error while parsing name_regex from ${regex}: ${(e as Error).message}` };
  }
}

function typeOf(config: Record<string, unknown>): Type | undefined {
  return typeof config['@type'] === 'string' ? findMessageType(config['@type']) : undefined;
}

/** protobuf's `FieldMask::DebugString()`, which Envoy's message quotes. */
function maskDebugString(paths: readonly string[]): string {
  return paths.map((p) => `paths: ${JSON.stringify(p)}\n`).join('');
}

/** `?resource=` (with `?mask=` on each element): the first dump message, in dump order, with that field. */
export function selectResource(configs: readonly Record<string, unknown>[], resource: string, mask: string | null): DumpQueryResult {
  for (const config of configs) {
    const type = typeOf(config);
    const field = type === undefined ? undefined : fieldByProtoName(type, resource);
    if (field === undefined) continue;
    if (!field.repeated) return { ok: false, status: 400, message: `${resource} is not a repeated field. Use ?mask=${resource} to get only this field` };
    const element = field.resolve().resolvedType;
    const items = (config[resource] as Record<string, unknown>[] | undefined) ?? [];
    if (!(element instanceof protobuf.Type)) return { ok: true, configs: [] };
    const url = `type.googleapis.com/${element.fullName.slice(1)}`;
    const paths = mask === null ? undefined : parseFieldMask(mask);
    const out: Record<string, unknown>[] = [];
    for (const item of items) {
      const trimmed = paths === undefined ? item : applyFieldMask(element, item, paths);
      if (trimmed === undefined) return { ok: false, status: 400, message: `FieldMask ${maskDebugString(paths!)} could not be successfully used.` };
      out.push({ '@type': url, ...trimmed });
    }
    return { ok: true, configs: out };
  }
  return { ok: false, status: 404, message: `${resource} not found in config dump` };
}

/** `?mask=` without `?resource=`: each dump message trimmed, those it does not fit left out. */
export function maskConfigs(configs: readonly Record<string, unknown>[], mask: string): DumpQueryResult {
  const paths = parseFieldMask(mask);
  const out: Record<string, unknown>[] = [];
  for (const config of configs) {
    const type = typeOf(config);
    const trimmed = type === undefined ? undefined : applyFieldMask(type, config, paths);
    if (trimmed !== undefined) out.push(trimmed);
  }
  if (out.length === 0) return { ok: false, status: 400, message: `FieldMask ${mask} could not be successfully applied to any configs.` };
  return { ok: true, configs: out };
}
