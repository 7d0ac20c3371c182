/**
 * The control plane's Prometheus metrics, with istiod's names so Istio dashboards and alerts work:
 * pushes by type, proxy convergence time, connected proxies, NACKs, push triggers and errors.
 * https://istio.io/latest/docs/reference/commands/pilot-discovery/#metrics
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SHORT } from '../xds/type-urls.ts';
import type { AdsObserver } from './ads/index.ts';

export class ControlMetrics {
  readonly registry = new Registry();
  /** Responses sent per type since the last scrape: counted here, added to the counter when scraped (labels cost a hash per call). */
  readonly #pushCounts = new Map<string, number>();
  readonly pushes: Counter;
  readonly pushTime = new Histogram({
    name: 'pilot_xds_push_time', help: 'Seconds from a change to every stream it concerns having its responses generated and written.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3, 5, 10, 20, 30], registers: [this.registry],
  });
  /**
   * ACK latencies (s) since the last scrape: a push to 1,000 proxies brings 1,000 ACKs, and observing
   * each at once (label hashing, bucket search) cost 2.5 µs on the push path; they are folded into the
   * histogram when it is scraped (or when this many are waiting).
   */
  readonly #pendingAcks = new Float64Array(65_536);
  #pendingAckCount = 0;
  readonly convergence: Histogram;
  readonly connected = new Gauge({ name: 'pilot_xds', help: 'Connected xDS clients.', labelNames: ['version'], registers: [this.registry] });
  readonly rejects = new Counter({ name: 'pilot_total_xds_rejects', help: 'xDS responses the proxy rejected (NACK), by type.', labelNames: ['type'], registers: [this.registry] });
  readonly pushErrors = new Counter({ name: 'pilot_xds_push_errors', help: 'Resources that failed to generate or encode, and failed streams, by kind.', labelNames: ['type'], registers: [this.registry] });
  readonly idleCollections = new Histogram({
    name: 'weft_idle_gc_duration_seconds', help: 'Full garbage collections run while the control plane was quiet (src/control/idle-gc.ts), by duration.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [this.registry],
  });
  readonly triggers = new Counter({ name: 'pilot_push_triggers', help: 'Push triggers, by reason (config, endpoint, proxy).', labelNames: ['type'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const fold = () => this.#foldAcks();
    this.convergence = new Histogram({
      name: 'pilot_proxy_convergence_time', help: 'Seconds from a config or endpoint change to the proxy ACKing it.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3, 5, 10, 20, 30], registers: [this.registry],
      collect: fold,
    });
    const counts = this.#pushCounts;
    this.pushes = new Counter({
      name: 'pilot_xds_pushes', help: 'xDS responses sent, by type (cds, eds, lds, rds, vhds).', labelNames: ['type'], registers: [this.registry],
      collect() {
        for (const [type, n] of counts) this.inc({ type }, n);
        counts.clear();
      },
    });
  }

  /** The ADS server's observer feeding these metrics (and logging NACKs and stream errors). */
  observer(log: (line: string) => void): AdsObserver {
    return {
      connections: (n) => this.connected.set({ version: 'weft' }, n),
      pushSent: (i) => {
        const type = SHORT[i.typeUrl] ?? i.typeUrl;
        this.#pushCounts.set(type, (this.#pushCounts.get(type) ?? 0) + 1);
      },
      pushDone: (i) => this.pushTime.observe(i.latencyMs / 1000),
      ack: (i) => {
        if (this.#pendingAckCount === this.#pendingAcks.length) this.#foldAcks();
        this.#pendingAcks[this.#pendingAckCount++] = i.latencyMs / 1000;
      },
      nack: (i) => {
        this.rejects.inc({ type: SHORT[i.typeUrl] ?? i.typeUrl });
        log(`NACK from ${i.proxyId} for ${SHORT[i.typeUrl] ?? i.typeUrl} version ${i.version}: ${i.message}`);
      },
      streamError: (i) => {
        this.pushErrors.inc({ type: `stream_${i.code.toLowerCase()}` });
        log(`xDS stream ${i.proxyId ?? i.peer} ${i.code}: ${i.message}`);
      },
    };
  }

  #foldAcks(): void {
    for (let i = 0; i < this.#pendingAckCount; i++) this.convergence.observe(this.#pendingAcks[i]!);
    this.#pendingAckCount = 0;
  }
}
