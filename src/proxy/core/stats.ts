/**
 * The proxy's statistics: Envoy-style counters and gauges named with dots
 * (`cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total`,
 * `http.inbound_127.0.1.2_9080.downstream_rq_5xx`, `listener.<addr>.downstream_cx_total`), owned by the
 * component that updates them and rendered by the admin endpoint (`/stats`, `/stats/prometheus`).
 * A counter is a small object with a number field: incrementing is allocation-free on the hot path.
 *
 * `/stats?usedonly` shows what was ever written, as Envoy's used flag: a counter once it is above zero
 * (counters only grow), a gauge once it was set, also back to zero (`upstream_cx_active` after its
 * connections closed). A gauge records that through its `value` setter: one store more per update.
 */

export interface Counter {
  value: number;
}

export interface Gauge {
  value: number;
}

/** A gauge that remembers whether it was ever set. */
class UsedGauge implements Gauge {
  #value = 0;
  used = false;

  get value(): number {
    return this.#value;
  }

  set value(v: number) {
    this.#value = v;
    this.used = true;
  }
}

export type StatKind = 'counter' | 'gauge';

export interface StatEntry {
  readonly name: string;
  readonly kind: StatKind;
  readonly value: number;
  /** Written at least once since the proxy started (Envoy's `usedonly`). */
  readonly used: boolean;
}

export class Stats {
  readonly #counters = new Map<string, Counter>();
  readonly #gauges = new Map<string, UsedGauge>();

  /** The counter named `name`, created at 0 on first use. Keep the returned object; do not look it up per request. */
  counter(name: string): Counter {
    let c = this.#counters.get(name);
    if (c === undefined) {
      c = { value: 0 };
      this.#counters.set(name, c);
    }
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.#gauges.get(name);
    if (g === undefined) {
      g = new UsedGauge();
      this.#gauges.set(name, g);
    }
    return g;
  }

  /** Every counter and gauge, sorted by name, for the admin endpoint. */
  entries(): StatEntry[] {
    const out: StatEntry[] = [];
    for (const [name, c] of this.#counters) out.push({ name, kind: 'counter', value: c.value, used: c.value !== 0 });
    for (const [name, g] of this.#gauges) out.push({ name, kind: 'gauge', value: g.value, used: g.used });
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
