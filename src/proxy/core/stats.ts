/**
 * The proxy's statistics: Envoy-style counters and gauges named with dots
 * (`cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total`,
 * `http.inbound_127.0.1.2_9080.downstream_rq_5xx`, `listener.<addr>.downstream_cx_total`), owned by the
 * component that updates them and rendered by the admin endpoint (`/stats`, `/stats/prometheus`).
 * A counter is a small object with a number field: incrementing is allocation-free on the hot path.
 */

export interface Counter {
  value: number;
}

export interface Gauge {
  value: number;
}

export class Stats {
  readonly #counters = new Map<string, Counter>();
  readonly #gauges = new Map<string, Gauge>();

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
      g = { value: 0 };
      this.#gauges.set(name, g);
    }
    return g;
  }

  /** Every counter and gauge, sorted by name, for the admin endpoint. */
  entries(): { name: string; kind: 'counter' | 'gauge'; value: number }[] {
    const out: { name: string; kind: 'counter' | 'gauge'; value: number }[] = [];
    for (const [name, c] of this.#counters) out.push({ name, kind: 'counter', value: c.value });
    for (const [name, g] of this.#gauges) out.push({ name, kind: 'gauge', value: g.value });
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
