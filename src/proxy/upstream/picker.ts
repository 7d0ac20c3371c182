/**
 * The picker: an immutable snapshot of a cluster's hosts, rebuilt whenever membership or health changes
 * (grpc-js's picker idea), that answers "which host for this request" without touching config.
 * Order of decisions, as Envoy's zone-aware and thread-aware balancers:
 *   1. priority, by the loads of priority-load.ts (request hash for RING_HASH/MAGLEV, random otherwise);
 *   2. panic: a priority in panic balances over all its hosts, ignoring health;
 *   3. locality, when EDS gives locality weights (Envoy also wants common_lb_config's
 *      locality_weighted_lb_config; weft takes the weights' presence as the request): EDF over effective weights
 *      (`weight × min(1, factor × healthy/total)`, Envoy's HostSetImpl::effectiveLocalityWeight);
 *      hash-based policies instead fold locality weights into normalized host weights;
 *   4. host, by the policy's chooser.
 * Retry host predicates (`exclude`) re-run the selection up to 6 times (Istio's
 * host_selection_retry_max_attempts 5, plus the first pick), returning the last pick if all are excluded.
 */
import type { PickContext, UpstreamHost } from '../core/contracts.ts';
import type { Availability } from './endpoints.ts';
import { ringPosition } from './lb/hash.ts';
import { EdfScheduler } from './lb/edf.ts';
import type { Chooser, LbEnv, LbHost, LbSpec, WeightedEntry } from './lb/types.ts';
import { EMPTY_CHOOSER } from './lb/types.ts';
import type { PriorityCounts, PriorityLoads } from './priority-load.ts';
import { choosePriority, priorityLoads } from './priority-load.ts';

export interface PickerHost extends LbHost, UpstreamHost {
  readonly availability: Availability;
  readonly addressString: string;
}

export interface LocalityInput<H extends PickerHost> {
  readonly key: string;
  /** The locality's load_balancing_weight, undefined when unset. */
  readonly weight: number | undefined;
  readonly hosts: readonly H[];
}

export interface PickerInput<H extends PickerHost> {
  /** Index = priority; a missing priority is an empty level. */
  readonly levels: readonly (readonly LocalityInput<H>[])[];
  readonly overprovisioningFactor: number;
  readonly weightedPriorityHealth: boolean;
  readonly panicThreshold: number;
  readonly lb: LbSpec;
  readonly env: LbEnv;
  /** Incremented when a pick lands in a priority in panic (`lb_healthy_panic`). */
  readonly panicCounter?: { value: number };
}

const MAX_ATTEMPTS = 6;

/** The hosts of one availability class of a priority, ready to pick from. */
interface Source<H extends LbHost> {
  readonly flat: Chooser<H>;
  /** Per-locality choosers scheduled by effective locality weight (locality-weighted, locality-scoped policies). */
  readonly localities: EdfScheduler<LocalityChooser<H>> | undefined;
}

interface LocalityChooser<H extends LbHost> {
  readonly chooser: Chooser<H>;
  readonly weight: number;
}

const localityWeight = (l: LocalityChooser<LbHost>): number => l.weight;

interface Level<H extends LbHost> {
  readonly panic: boolean;
  readonly all: Source<H>;
  readonly healthy: Source<H>;
  readonly degraded: Source<H>;
}

type Filter = (a: Availability) => boolean;
const ALL: Filter = (a) => a !== 'excluded';
const HEALTHY: Filter = (a) => a === 'healthy';
const DEGRADED: Filter = (a) => a === 'degraded';

function flatEntries<H extends PickerHost>(localities: readonly LocalityInput<H>[], keep: Filter): WeightedEntry<H>[] {
  const out: WeightedEntry<H>[] = [];
  for (const l of localities) for (const h of l.hosts) if (keep(h.availability)) out.push({ host: h, weight: h.weight });
  return out;
}

/** Normalized weights for hash-based policies: host share of its locality × locality share, or host share. */
function normalizedEntries<H extends PickerHost>(localities: readonly LocalityInput<H>[], keep: Filter, byLocality: boolean): WeightedEntry<H>[] {
  if (!byLocality) {
    const flat = flatEntries(localities, keep);
    const sum = flat.reduce((s, e) => s + e.weight, 0);
    return flat.map((e) => ({ host: e.host, weight: e.weight / sum }));
  }
  const localitySum = localities.reduce((s, l) => s + (l.weight ?? 0), 0);
  const out: WeightedEntry<H>[] = [];
  if (localitySum === 0) return out;
  for (const l of localities) {
    const hosts = l.hosts.filter((h) => keep(h.availability));
    const sum = hosts.reduce((s, h) => s + h.weight, 0);
    if ((l.weight ?? 0) === 0 || sum === 0) continue;
    for (const h of hosts) out.push({ host: h, weight: (h.weight * (l.weight ?? 0)) / localitySum / sum });
  }
  return out;
}

function localityScheduler<H extends PickerHost>(input: PickerInput<H>, localities: readonly LocalityInput<H>[], keep: Filter): EdfScheduler<LocalityChooser<H>> | undefined {
  const edf = new EdfScheduler<LocalityChooser<H>>();
  const factor = input.overprovisioningFactor / 100;
  for (const l of localities) {
    const size = flatEntries([l], ALL).length;
    if (size === 0 || (l.weight ?? 0) === 0) continue;
    const eligible = flatEntries([l], keep);
    const effective = (l.weight ?? 0) * Math.min(1, (factor * eligible.length) / size);
    if (effective > 0) edf.add(effective, { chooser: input.lb.policy.build(eligible, input.lb.config, input.env), weight: effective });
  }
  return edf.empty ? undefined : edf;
}

function source<H extends PickerHost>(input: PickerInput<H>, localities: readonly LocalityInput<H>[], keep: Filter, weightedLocalities: boolean): Source<H> {
  const { policy, config } = input.lb;
  if (policy.scope === 'priority') {
    const entries = normalizedEntries(localities, keep, weightedLocalities);
    return { flat: entries.length === 0 ? EMPTY_CHOOSER : policy.build(entries, config, input.env), localities: undefined };
  }
  const entries = flatEntries(localities, keep);
  const flat = entries.length === 0 ? EMPTY_CHOOSER : policy.build(entries, config, input.env);
  // Envoy never locality-weights the all-hosts (panic) source.
  const localityEdf = weightedLocalities && keep !== ALL ? localityScheduler(input, localities, keep) : undefined;
  return { flat, localities: localityEdf };
}

function counts<H extends PickerHost>(localities: readonly LocalityInput<H>[], weighted: boolean): PriorityCounts {
  let hostCount = 0, healthyCount = 0, degradedCount = 0, total = 0, healthy = 0, degraded = 0;
  for (const l of localities) {
    for (const h of l.hosts) {
      if (h.availability === 'excluded') continue;
      const w = weighted ? h.weight : 1;
      hostCount++;
      total += w;
      if (h.availability === 'healthy') {
        healthyCount++;
        healthy += w;
      } else if (h.availability === 'degraded') {
        degradedCount++;
        degraded += w;
      }
    }
  }
  return { total, healthy, degraded, hostCount, healthyCount, degradedCount };
}

export class Picker<H extends PickerHost> {
  readonly loads: PriorityLoads;
  readonly #levels: readonly Level<H>[];
  readonly #hashed: boolean;
  readonly #env: LbEnv;
  readonly #panicCounter: { value: number } | undefined;

  constructor(input: PickerInput<H>) {
    this.loads = priorityLoads(input.levels.map((l) => counts(l, input.weightedPriorityHealth)), input.overprovisioningFactor, input.panicThreshold);
    this.#levels = input.levels.map((localities, p) => {
      const weighted = localities.some((l) => l.weight !== undefined);
      const healthy = source(input, localities, HEALTHY, weighted);
      // Usually every host is healthy: the panic source is then the healthy one's hosts, so share its chooser.
      const allHealthy = localities.every((l) => l.hosts.every((h) => h.availability === 'healthy' || h.availability === 'excluded'));
      return {
        panic: this.loads.panic[p] ?? false,
        all: allHealthy ? { flat: healthy.flat, localities: undefined } : source(input, localities, ALL, weighted),
        healthy,
        degraded: source(input, localities, DEGRADED, weighted),
      };
    });
    this.#hashed = input.lb.policy.scope === 'priority';
    this.#env = input.env;
    this.#panicCounter = input.panicCounter;
  }

  #once(hash: number, attempt: number): H | undefined {
    const choice = choosePriority(this.loads, hash);
    const level = this.#levels[choice >> 1];
    if (level === undefined) return undefined;
    let src: Source<H>;
    if (level.panic) {
      if (this.#panicCounter !== undefined) this.#panicCounter.value++;
      src = level.all;
    } else {
      src = (choice & 1) === 1 ? level.degraded : level.healthy;
    }
    const chooser = src.localities?.pickAndAdd(localityWeight)?.chooser ?? src.flat;
    return chooser.pick(hash, attempt);
  }

  pick(ctx?: PickContext): H | undefined {
    const exclude = ctx?.exclude;
    const attempts = exclude !== undefined && exclude.size > 0 ? MAX_ATTEMPTS : 1;
    const fixed = this.#hashed && ctx?.hash !== undefined ? ringPosition(ctx.hash) : undefined;
    const hash = fixed ?? this.#env.random();
    let host: H | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      // Hash-based policies keep the hash and ask for the next point; others draw again.
      host = this.#hashed ? this.#once(hash, attempt) : this.#once(attempt === 0 ? hash : this.#env.random(), 0);
      if (host === undefined || exclude === undefined || !exclude.has(host)) return host;
    }
    return host;
  }
}
