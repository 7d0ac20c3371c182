/**
 * `typed_per_filter_config`: per-route settings for HTTP filters, keyed by filter name, at four levels
 * (route configuration, virtual host, route, weighted cluster). Kept opaque here — the HTTP filters
 * own their config types — except for Envoy's `config.route.v3.FilterConfig` wrapper (`is_optional`,
 * `disabled`). An optional hook lets the filter registry validate and pre-compile each config once per
 * route configuration version. The most specific level wins, as Envoy's `mostSpecificPerFilterConfig`:
 * weighted cluster, then route, then virtual host, then route configuration.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-filterconfig
 */
import { anyTypeUrl, bool, field, obj, Problems, type Proto } from './proto.ts';

const FILTER_CONFIG = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';

export interface FilterConfig {
  /** Type URL of the filter's config (`type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault`…), '' when only disabling. */
  readonly typeUrl: string;
  /** The decoded config (an `Any` expanded with `@type`). */
  readonly config: Proto | undefined;
  /** What the validation hook compiled from it, if anything. */
  readonly compiled: unknown;
  /** The filter is switched off for these requests (`FilterConfig.disabled`). */
  readonly disabled: boolean;
  readonly optional: boolean;
}

/** Filter name → its most specific per-route config. */
export type FilterConfigs = ReadonlyMap<string, FilterConfig>;

export const NO_FILTER_CONFIGS: FilterConfigs = new Map();

/**
 * Validates (and may pre-compile) one per-route filter config. Returns undefined when no filter knows
 * `typeUrl` (a problem unless the config is marked optional), else the problems and a compiled form.
 */
export type PerFilterConfigHook = (filterName: string, typeUrl: string, config: Proto) => { readonly problems: readonly string[]; readonly compiled?: unknown } | undefined;

/** Compiles one level's `typed_per_filter_config` map at `path`. */
export function compilePerFilterConfigs(v: unknown, path: string, problems: Problems, hook: PerFilterConfigHook | undefined): FilterConfigs {
  const map = obj(v);
  if (map === undefined || Object.keys(map).length === 0) return NO_FILTER_CONFIGS;
  const out = new Map<string, FilterConfig>();
  for (const [name, any] of Object.entries(map)) {
    const at = field(path, name);
    const fc = compileOne(name, any, at, problems, hook);
    if (fc !== undefined) out.set(name, fc);
  }
  return out;
}

function compileOne(name: string, any: unknown, path: string, problems: Problems, hook: PerFilterConfigHook | undefined): FilterConfig | undefined {
  let typeUrl = anyTypeUrl(any);
  let config = obj(any);
  let optional = false;
  let disabled = false;
  if (typeUrl === undefined) {
    problems.add(path, 'an Any with @type expected');
    return undefined;
  }
  if (typeUrl === FILTER_CONFIG) {
    optional = bool(config?.['isOptional']);
    disabled = bool(config?.['disabled']);
    config = obj(config?.['config']);
    typeUrl = anyTypeUrl(config) ?? '';
    if (typeUrl === '' && !disabled) {
      problems.add(field(path, 'config'), 'required unless disabled');
      return undefined;
    }
  }
  let compiled: unknown;
  if (typeUrl !== '' && config !== undefined && hook !== undefined) {
    const verdict = hook(name, typeUrl, config);
    if (verdict === undefined) {
      if (optional) return undefined;
      problems.add(path, `no HTTP filter accepts per-route config of type ${typeUrl}`);
      return undefined;
    }
    for (const p of verdict.problems) problems.add(path, p);
    compiled = verdict.compiled;
  }
  return { typeUrl, config, compiled, disabled, optional };
}

/** `specific` over `general`: one map, shared when either is empty (no copy per route when nothing is overridden). */
export function mergeFilterConfigs(general: FilterConfigs, specific: FilterConfigs): FilterConfigs {
  if (specific.size === 0) return general;
  if (general.size === 0) return specific;
  const out = new Map(general);
  for (const [k, v] of specific) out.set(k, v);
  return out;
}
