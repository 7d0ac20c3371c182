/**
 * ROUND_ROBIN: Envoy's round robin. Equal weights: a rotating index (random start, so proxies do not
 * all begin with the same host). Unequal weights: earliest-deadline-first weighted round robin with
 * exact proportions per cycle (`WeightedCycle`), started at a random point of the cycle.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers#weighted-round-robin
 * `slow_start_config` is accepted and not applied (hosts get their full weight at once).
 */
import { WeightedCycle } from './edf.ts';
import type { LbRegistry } from './registry.ts';
import { lbTypeUrl } from './registry.ts';
import type { Chooser, LbEnv, LbHost, LbPolicy, WeightedEntry } from './types.ts';
import { EMPTY_CHOOSER } from './types.ts';

function allEqual<H extends LbHost>(entries: readonly WeightedEntry<H>[]): boolean {
  for (const e of entries) if (e.weight !== entries[0]!.weight) return false;
  return true;
}

class Rotating<H extends LbHost> implements Chooser<H> {
  readonly #hosts: readonly H[];
  #next: number;

  constructor(hosts: readonly H[], start: number) {
    this.#hosts = hosts;
    this.#next = start % hosts.length;
  }

  pick(): H | undefined {
    const h = this.#hosts[this.#next];
    this.#next = this.#next + 1 === this.#hosts.length ? 0 : this.#next + 1;
    return h;
  }
}

class Weighted<H extends LbHost> implements Chooser<H> {
  readonly #cycle: WeightedCycle<H>;

  constructor(entries: readonly WeightedEntry<H>[], skip: number) {
    this.#cycle = new WeightedCycle(entries.map((e) => ({ item: e.host, weight: e.weight })));
    for (let i = 0; i < skip; i++) this.#cycle.next();
  }

  pick(): H | undefined {
    return this.#cycle.next();
  }
}

export function buildRoundRobin<H extends LbHost>(entries: readonly WeightedEntry<H>[], env: LbEnv): Chooser<H> {
  if (entries.length === 0) return EMPTY_CHOOSER;
  if (allEqual(entries)) return new Rotating(entries.map((e) => e.host), env.random());
  return new Weighted(entries, env.random() % entries.length);
}

export const roundRobin: LbPolicy<null> = {
  name: 'ROUND_ROBIN',
  typeUrls: [lbTypeUrl('round_robin.v3.RoundRobin')],
  scope: 'locality',
  fromCluster: () => null,
  fromTyped: () => null,
  build: (entries, _config, env) => buildRoundRobin(entries, env),
};

export function setup(registry: LbRegistry): void {
  registry.register(roundRobin);
}
