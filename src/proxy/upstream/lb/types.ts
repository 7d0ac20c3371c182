/**
 * The contract between the picker and the load-balancing policies (grpc-js's load balancer / picker
 * split, Envoy's LB extension factories). A policy is a factory: it reads its config once per cluster
 * version (problems collected), then builds a `Chooser` over an immutable list of hosts each time the
 * cluster's membership or health changes. The picker owns priorities, localities, panic and retries;
 * a chooser only picks among the hosts it was built over.
 */
import type { Proto } from '../proto-read.ts';
import type { Problems } from '../proto-read.ts';

/** What a policy sees of a host. */
export interface LbHost {
  /** `load_balancing_weight` of the endpoint (≥ 1). */
  readonly weight: number;
  /** `ip:port` (`[ip6]:port`), Envoy's `Address::asString()`: the default hash key. */
  readonly addressString: string;
  /** `endpoint.hostname`, the hash key with `use_hostname_for_hashing`. */
  readonly hostname: string;
  /** Requests in flight to this host (read at pick time by LEAST_REQUEST). */
  readonly activeRequests: number;
}

/**
 * A host and the weight the chooser must honour: the endpoint weight for locality-scoped policies, or
 * the normalized weight (host weight × locality share, summing to 1 per priority) for priority-scoped
 * ones, as Envoy's thread-aware balancers get them.
 */
export interface WeightedEntry<H extends LbHost> {
  readonly host: H;
  readonly weight: number;
}

/** Picks among a fixed host list. May keep scheduling state (round-robin position); never throws. */
export interface Chooser<H extends LbHost> {
  /**
   * `hash` is a 32-bit unsigned request hash (random when the request has none); `attempt` > 0 asks
   * for an alternative because the previous pick was rejected (retry host predicates).
   */
  pick(hash: number, attempt: number): H | undefined;
}

export interface LbEnv {
  /** A uniformly random unsigned 32-bit integer. Injected so tests are deterministic. */
  random(): number;
}

export const defaultEnv: LbEnv = { random: () => (Math.random() * 0x100000000) >>> 0 };

export interface LbPolicy<C = unknown> {
  /** The `Cluster.LbPolicy` enum name (`ROUND_ROBIN`). */
  readonly name: string;
  /** `load_balancing_policy` extension config type URLs this policy accepts. */
  readonly typeUrls: readonly string[];
  /**
   * `locality`: built per host list within one priority and locality (ROUND_ROBIN, LEAST_REQUEST,
   * RANDOM: Envoy's zone-aware balancers). `priority`: built once per priority over normalized weights
   * with locality weights folded in, and the request hash also picks the priority (RING_HASH, MAGLEV:
   * Envoy's thread-aware balancers).
   */
  readonly scope: 'locality' | 'priority';
  /** The config from a Cluster's legacy fields (`ring_hash_lb_config`, `common_lb_config`…). */
  fromCluster(cluster: Proto, problems: Problems): C;
  /** The config from a `load_balancing_policy` entry's typed config at `path`. */
  fromTyped(typed: Proto, path: string, problems: Problems): C;
  build<H extends LbHost>(entries: readonly WeightedEntry<H>[], config: C, env: LbEnv): Chooser<H>;
}

/** A policy with its compiled config, ready to build choosers. */
export interface LbSpec {
  readonly policy: LbPolicy;
  readonly config: unknown;
}

/** A chooser over no hosts. */
export const EMPTY_CHOOSER: Chooser<never> = { pick: () => undefined };
