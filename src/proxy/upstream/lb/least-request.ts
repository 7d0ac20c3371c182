/**
 * LEAST_REQUEST: Envoy's least request balancer
 * (source/extensions/load_balancing_policies/least_request/least_request_lb.cc).
 * - Equal weights: power of `choice_count` (default 2) random choices; the sampled host with the fewest
 *   active requests wins (FULL_SCAN: every host, ties broken at random by reservoir sampling).
 * - Unequal weights: EDF over dynamic weights `weight / (active + 1)^active_request_bias` (bias default
 *   1.0), recomputed each time a host is re-inserted after a pick.
 * `slow_start_config` is accepted and not applied.
 */
import { EdfScheduler } from './edf.ts';
import type { LbRegistry } from './registry.ts';
import { lbTypeUrl } from './registry.ts';
import type { Chooser, LbEnv, LbHost, LbPolicy, WeightedEntry } from './types.ts';
import { EMPTY_CHOOSER } from './types.ts';
import type { Problems, Proto } from '../proto-read.ts';
import { at, bool, enumName, has, message, u32 } from '../proto-read.ts';

export interface LeastRequestConfig {
  readonly choiceCount: number;
  readonly activeRequestBias: number;
  readonly fullScan: boolean;
}

export const DEFAULT_LEAST_REQUEST: LeastRequestConfig = { choiceCount: 2, activeRequestBias: 1, fullScan: false };

class NChoices<H extends LbHost> implements Chooser<H> {
  readonly #hosts: readonly H[];
  readonly #choices: number;
  readonly #env: LbEnv;

  constructor(hosts: readonly H[], choices: number, env: LbEnv) {
    this.#hosts = hosts;
    this.#choices = choices;
    this.#env = env;
  }

  pick(): H | undefined {
    const n = this.#hosts.length;
    let best = this.#hosts[this.#env.random() % n]!;
    for (let i = 1; i < this.#choices; i++) {
      const h = this.#hosts[this.#env.random() % n]!;
      if (h.activeRequests < best.activeRequests) best = h;
    }
    return best;
  }
}

class FullScan<H extends LbHost> implements Chooser<H> {
  readonly #hosts: readonly H[];
  readonly #env: LbEnv;

  constructor(hosts: readonly H[], env: LbEnv) {
    this.#hosts = hosts;
    this.#env = env;
  }

  pick(): H | undefined {
    let best: H | undefined;
    let ties = 0;
    for (const h of this.#hosts) {
      if (best === undefined || h.activeRequests < best.activeRequests) {
        best = h;
        ties = 1;
      } else if (h.activeRequests === best.activeRequests && this.#env.random() % ++ties === 0) {
        best = h;
      }
    }
    return best;
  }
}

class BiasedEdf<H extends LbHost> implements Chooser<H> {
  readonly #edf = new EdfScheduler<WeightedEntry<H>>();
  readonly #weightOf: (e: WeightedEntry<H>) => number;

  constructor(entries: readonly WeightedEntry<H>[], bias: number) {
    this.#weightOf = bias === 0
      ? (e) => e.weight
      : bias === 1
        ? (e) => e.weight / (e.host.activeRequests + 1)
        : (e) => e.weight / Math.pow(e.host.activeRequests + 1, bias);
    for (const e of entries) this.#edf.add(this.#weightOf(e), e);
  }

  pick(): H | undefined {
    return this.#edf.pickAndAdd(this.#weightOf)?.host;
  }
}

export function buildLeastRequest<H extends LbHost>(entries: readonly WeightedEntry<H>[], config: LeastRequestConfig, env: LbEnv): Chooser<H> {
  if (entries.length === 0) return EMPTY_CHOOSER;
  const equal = entries.every((e) => e.weight === entries[0]!.weight);
  if (!equal) return new BiasedEdf(entries, config.activeRequestBias);
  const hosts = entries.map((e) => e.host);
  return config.fullScan ? new FullScan(hosts, env) : new NChoices(hosts, config.choiceCount, env);
}

function readBias(p: Proto, path: string, problems: Problems): number {
  if (!has(p, 'activeRequestBias')) return 1;
  const rd = message(p, 'activeRequestBias', path, problems);
  const v = rd['defaultValue'] ?? 0;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    problems.add(at(at(path, 'activeRequestBias'), 'defaultValue'), `must be a non-negative number (got ${JSON.stringify(v)})`);
    return 1;
  }
  return v;
}

function readConfig(p: Proto, path: string, problems: Problems, typed: boolean): LeastRequestConfig {
  const choiceCount = u32(p, 'choiceCount', path, problems) ?? 2;
  if (choiceCount < 2) problems.add(at(path, 'choiceCount'), `must be at least 2 (got ${choiceCount})`);
  const fullScan = typed
    && (enumName(p, 'selectionMethod', ['N_CHOICES', 'FULL_SCAN'], path, problems) === 'FULL_SCAN' || bool(p, 'enableFullScan', path, problems));
  return { choiceCount: Math.max(2, choiceCount), activeRequestBias: readBias(p, path, problems), fullScan };
}

export const leastRequest: LbPolicy<LeastRequestConfig> = {
  name: 'LEAST_REQUEST',
  typeUrls: [lbTypeUrl('least_request.v3.LeastRequest')],
  scope: 'locality',
  fromCluster: (cluster, problems) => readConfig(message(cluster, 'leastRequestLbConfig', '', problems), 'leastRequestLbConfig', problems, false),
  fromTyped: (typed, path, problems) => readConfig(typed, path, problems, true),
  build: (entries, config, env) => buildLeastRequest(entries, config, env),
};

export function setup(registry: LbRegistry): void {
  registry.register(leastRequest);
}
