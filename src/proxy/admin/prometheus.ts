/**
 * Stats in Prometheus' text exposition format, named as Envoy names them: dots and other characters
 * become `_`, the `envoy_` prefix is added, and the scopes whose names Envoy extracts as tags become
 * labels (`cluster.<name>.x` → `envoy_cluster_x{cluster_name="<name>"}`, `http.<prefix>.x` →
 * `envoy_http_x{envoy_http_conn_manager_prefix="<prefix>"}`, `listener.<addr>.x`, `tcp.<prefix>.x`).
 * Scope names may hold dots (`outbound|9080||reviews.default.svc.cluster.local`, `inbound_127.0.1.2_9080`),
 * so the metric is the last dotted segment and the scope everything between.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--stats-prometheus
 */
import type { StatEntry } from '../core/stats.ts';

/** Envoy's default tag extractors for the scopes weft has: scope prefix → label name. */
const SCOPES: Readonly<Record<string, string>> = {
  cluster: 'cluster_name',
  http: 'envoy_http_conn_manager_prefix',
  listener: 'envoy_listener_address',
  tcp: 'envoy_tcp_prefix',
};

const SUB_SCOPES = /\.(?:circuit_breakers|outlier_detection|lb_subsets)\./;

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export interface PromSample {
  readonly metric: string;
  readonly labels: string;
}

/** The Prometheus metric name and label set of one Envoy stat name. */
export function promName(statName: string): PromSample {
  const dot = statName.indexOf('.');
  const last = statName.lastIndexOf('.');
  const scope = dot < 0 ? undefined : statName.slice(0, dot);
  const label = scope === undefined ? undefined : SCOPES[scope];
  if (label !== undefined && last > dot) {
    // Sub-scopes inside a cluster stay in the metric name, as Envoy's extractors leave them.
    const sub = scope === 'cluster' ? SUB_SCOPES.exec(statName) : null;
    const end = sub !== null && sub.index > dot ? sub.index : last;
    const tag = statName.slice(dot + 1, end);
    return { metric: `envoy_${scope}_${sanitize(statName.slice(end + 1))}`, labels: `{${label}="${escapeLabel(tag)}"}` };
  }
  return { metric: `envoy_${sanitize(statName)}`, labels: '' };
}

/** `/stats/prometheus`: the given counters and gauges, grouped under one `# TYPE` line per metric. */
export function prometheusText(entries: readonly StatEntry[]): string {
  const groups = new Map<string, { kind: string; lines: string[] }>();
  for (const e of entries) {
    const { metric, labels } = promName(e.name);
    let g = groups.get(metric);
    if (g === undefined) {
      g = { kind: e.kind, lines: [] };
      groups.set(metric, g);
    }
    g.lines.push(`${metric}${labels} ${e.value}`);
  }
  let out = '';
  for (const [metric, g] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out += `# TYPE ${metric} ${g.kind}\n${g.lines.join('\n')}\n`;
  return out;
}

/** `/stats`: `name: value` lines. */
export function statsText(entries: readonly StatEntry[]): string {
  let out = '';
  for (const e of entries) out += `${e.name}: ${e.value}\n`;
  return out;
}
