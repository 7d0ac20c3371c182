/**
 * The query of `/stats` and `/stats/prometheus`, as Envoy's `StatsParams` reads it: `usedonly` (only
 * stats written at least once), `filter=<RE2>` (names it matches anywhere; a bad one is 400 `Invalid
 * re2 regex`), `type=Counters|Gauges|Histograms|TextReadouts|All` and `format=text|json|prometheus`.
 * weft has counters and gauges only, so `Histograms` and `TextReadouts` select nothing.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--stats
 */
import type { StatEntry, Stats } from '../core/stats.ts';
import { engine as re2 } from '../http/router/regex.ts';

export type StatsFormat = 'text' | 'json' | 'prometheus';
const TYPES = ['Counters', 'Gauges', 'Histograms', 'TextReadouts', 'All'] as const;
type StatsType = (typeof TYPES)[number];

export interface StatsSelection {
  readonly usedOnly?: boolean;
  /** Keeps the names it matches somewhere (RE2 partial match, as Envoy's filter). */
  readonly filter?: (name: string) => boolean;
  readonly type?: StatsType;
}

export interface StatsParams extends StatsSelection {
  readonly format: StatsFormat;
}

/** The parameters, or the 400 message Envoy answers for a bad one. */
export function parseStatsParams(q: URLSearchParams, defaultFormat: StatsFormat = 'text'): StatsParams | { readonly error: string } {
  let filter: ((name: string) => boolean) | undefined;
  const f = q.get('filter');
  if (f !== null) {
    try {
      const re = re2().compile(f);
      filter = (name) => re.test(name);
    } catch {
      return { error: 'Invalid re2 regex' };
    }
  }
  const type = q.get('type') ?? 'All';
  if (!(TYPES as readonly string[]).includes(type)) return { error: 'invalid &type= param' };
  const format = q.get('format') ?? defaultFormat;
  if (format !== 'text' && format !== 'json' && format !== 'prometheus') return { error: 'usage: /stats?format=(json|prometheus|text)\n' };
  return { usedOnly: q.has('usedonly'), type: type as StatsType, format, ...(filter !== undefined ? { filter } : {}) };
}

/** The stats a selection keeps, sorted by name. */
export function selectStats(stats: Stats, sel: StatsSelection = {}): StatEntry[] {
  const type = sel.type ?? 'All';
  return stats.entries().filter((e) =>
    (type === 'All' || (type === 'Counters' && e.kind === 'counter') || (type === 'Gauges' && e.kind === 'gauge'))
    && (sel.usedOnly !== true || e.used)
    && (sel.filter === undefined || sel.filter(e.name)));
}
