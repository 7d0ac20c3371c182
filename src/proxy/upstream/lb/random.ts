/**
 * RANDOM: a uniformly random host of the chosen priority and locality. Like Envoy's random balancer
 * (source/extensions/load_balancing_policies/random/random_lb.cc) it ignores endpoint weights;
 * locality weights and priorities still apply through the picker.
 */
import type { LbRegistry } from './registry.ts';
import { lbTypeUrl } from './registry.ts';
import type { Chooser, LbEnv, LbHost, LbPolicy, WeightedEntry } from './types.ts';
import { EMPTY_CHOOSER } from './types.ts';

class Uniform<H extends LbHost> implements Chooser<H> {
  readonly #hosts: readonly H[];
  readonly #env: LbEnv;

  constructor(hosts: readonly H[], env: LbEnv) {
    this.#hosts = hosts;
    this.#env = env;
  }

  pick(): H | undefined {
    return this.#hosts[this.#env.random() % this.#hosts.length];
  }
}

export function buildRandom<H extends LbHost>(entries: readonly WeightedEntry<H>[], env: LbEnv): Chooser<H> {
  return entries.length === 0 ? EMPTY_CHOOSER : new Uniform(entries.map((e) => e.host), env);
}

export const random: LbPolicy<null> = {
  name: 'RANDOM',
  typeUrls: [lbTypeUrl('random.v3.Random')],
  scope: 'locality',
  fromCluster: () => null,
  fromTyped: () => null,
  build: (entries, _config, env) => buildRandom(entries, env),
};

export function setup(registry: LbRegistry): void {
  registry.register(random);
}
