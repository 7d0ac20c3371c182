/**
 * The built-in load-balancing policies, registered in one visible place (grpc-js's
 * `load-balancer` setup pattern): each policy module exports `setup(registry)`.
 */
import { LbRegistry } from './registry.ts';
import { setup as setupRoundRobin } from './round-robin.ts';
import { setup as setupLeastRequest } from './least-request.ts';
import { setup as setupRandom } from './random.ts';
import { setup as setupRingHash } from './ring-hash.ts';
import { setup as setupMaglev } from './maglev.ts';

export function registerBuiltins(registry: LbRegistry): LbRegistry {
  setupRoundRobin(registry);
  setupLeastRequest(registry);
  setupRandom(registry);
  setupRingHash(registry);
  setupMaglev(registry);
  return registry;
}

/** A registry holding the built-in policies. */
export function builtinLbRegistry(): LbRegistry {
  return registerBuiltins(new LbRegistry());
}

export { LbRegistry, lbTypeUrl } from './registry.ts';
export type { Chooser, LbEnv, LbHost, LbPolicy, LbSpec, WeightedEntry } from './types.ts';
export { defaultEnv } from './types.ts';
