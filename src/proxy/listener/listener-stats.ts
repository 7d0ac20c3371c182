/**
 * Per-listener statistics under `listener.<stat_prefix or address>.` (Envoy's listener stats) and the
 * listener manager's under `listener_manager.`. Counter objects are looked up once per listener
 * version, never per connection.
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/stats
 */
import type { Counter, Gauge, Stats } from '../core/stats.ts';

export interface ListenerStats {
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly cxDestroy: Counter;
  readonly cxOverflow: Counter;
  readonly preCxActive: Gauge;
  readonly preCxTimeout: Counter;
  readonly noFilterChainMatch: Counter;
  readonly filterError: Counter;
  readonly filterRemoteClose: Counter;
  /** weft's: connections still open when the drain time ran out, closed by the listener. */
  readonly drainTimeout: Counter;
}

/** Envoy's name for a listener's stats scope: `stat_prefix`, else the address as `127.0.0.1_15001` (`[__1]_80` for IPv6). */
export function listenerStatName(statPrefix: string, host: string, port: number): string {
  if (statPrefix !== '') return statPrefix;
  const h = host.includes(':') ? `[${host}]` : host;
  return `${h}_${port}`.replaceAll(':', '_');
}

export function listenerStats(stats: Stats, name: string): ListenerStats {
  const p = `listener.${name}.`;
  return {
    cxTotal: stats.counter(`${p}downstream_cx_total`),
    cxActive: stats.gauge(`${p}downstream_cx_active`),
    cxDestroy: stats.counter(`${p}downstream_cx_destroy`),
    cxOverflow: stats.counter(`${p}downstream_cx_overflow`),
    preCxActive: stats.gauge(`${p}downstream_pre_cx_active`),
    preCxTimeout: stats.counter(`${p}downstream_pre_cx_timeout`),
    noFilterChainMatch: stats.counter(`${p}no_filter_chain_match`),
    filterError: stats.counter(`${p}downstream_listener_filter_error`),
    filterRemoteClose: stats.counter(`${p}downstream_listener_filter_remote_close`),
    drainTimeout: stats.counter(`${p}downstream_cx_drain_timeout`),
  };
}

export interface ManagerStats {
  readonly added: Counter;
  readonly modified: Counter;
  readonly removed: Counter;
  readonly createSuccess: Counter;
  readonly createFailure: Counter;
  readonly inPlaceUpdated: Counter;
  readonly warming: Gauge;
  readonly active: Gauge;
  readonly draining: Gauge;
}

export function managerStats(stats: Stats): ManagerStats {
  const p = 'listener_manager.';
  return {
    added: stats.counter(`${p}listener_added`),
    modified: stats.counter(`${p}listener_modified`),
    removed: stats.counter(`${p}listener_removed`),
    createSuccess: stats.counter(`${p}listener_create_success`),
    createFailure: stats.counter(`${p}listener_create_failure`),
    inPlaceUpdated: stats.counter(`${p}listener_in_place_updated`),
    warming: stats.gauge(`${p}total_listeners_warming`),
    active: stats.gauge(`${p}total_listeners_active`),
    draining: stats.gauge(`${p}total_listeners_draining`),
  };
}
