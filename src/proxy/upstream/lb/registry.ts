/**
 * The load-balancing policy registry: policies keyed by their `Cluster.LbPolicy` name and by the type
 * URLs of their `load_balancing_policy` extension configs. Filled by `registerBuiltins()` (lb/index.ts),
 * never by import side effects; each cluster manager owns one, so tests can build their own.
 */
import type { LbPolicy } from './types.ts';

export class LbRegistry {
  readonly #byName = new Map<string, LbPolicy>();
  readonly #byTypeUrl = new Map<string, LbPolicy>();

  register(policy: LbPolicy): void {
    if (this.#byName.has(policy.name)) throw new Error(`load balancing policy ${policy.name} is already registered`);
    this.#byName.set(policy.name, policy);
    for (const url of policy.typeUrls) this.#byTypeUrl.set(url, policy);
  }

  byName(name: string): LbPolicy | undefined {
    return this.#byName.get(name);
  }

  byTypeUrl(typeUrl: string): LbPolicy | undefined {
    return this.#byTypeUrl.get(typeUrl);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }
}

/** The type URL of a `load_balancing_policies` extension (`round_robin.v3.RoundRobin`…). */
export function lbTypeUrl(suffix: string): string {
  return `type.googleapis.com/envoy.extensions.load_balancing_policies.${suffix}`;
}
