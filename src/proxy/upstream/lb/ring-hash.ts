/**
 * RING_HASH: Envoy's ketama-style consistent hash ring
 * (source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc). Each host gets
 * `scale × normalized weight` points hashed from `"<ip:port>_<i>"` (or the hostname with
 * use_hostname_for_hashing) with xxHash64 (default) or MURMUR_HASH_2, where `scale` gives the
 * least-weighted host a whole number of points, at least `minimum_ring_size` (1024) in total and at most
 * `maximum_ring_size` (8M). A request goes to the first point at or after its hash, wrapping around.
 * Points are stored as the top 32 bits of the 64-bit hash (same order as Envoy's ring; see hash.ts).
 * `hash_balance_factor` (bounded load) is not supported.
 */
import { murmurHash2, top32, xxHash64 } from './hash.ts';
import type { LbRegistry } from './registry.ts';
import { lbTypeUrl } from './registry.ts';
import type { Chooser, LbHost, LbPolicy, WeightedEntry } from './types.ts';
import { EMPTY_CHOOSER } from './types.ts';
import type { Problems, Proto } from '../proto-read.ts';
import { at, bool, enumName, has, message, u32 } from '../proto-read.ts';

export interface RingHashConfig {
  readonly minRingSize: number;
  readonly maxRingSize: number;
  readonly hashFunction: 'XX_HASH' | 'MURMUR_HASH_2';
  readonly useHostnameForHashing: boolean;
}

export const DEFAULT_MIN_RING_SIZE = 1024;
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;

export function hashKey(host: LbHost, useHostname: boolean): string {
  return useHostname && host.hostname !== '' ? host.hostname : host.addressString;
}

export class Ring<H extends LbHost> implements Chooser<H> {
  readonly points: Uint32Array;
  readonly #hosts: readonly H[];

  constructor(entries: readonly WeightedEntry<H>[], config: RingHashConfig) {
    let minWeight = 1;
    for (const e of entries) minWeight = Math.min(minWeight, e.weight);
    const scale = Math.min(Math.ceil(minWeight * config.minRingSize) / minWeight, config.maxRingSize);
    const hashOf = config.hashFunction === 'MURMUR_HASH_2' ? (k: string) => murmurHash2(k) : (k: string) => xxHash64(k);
    const ring: { point: number; host: H }[] = [];
    let current = 0;
    let target = 0;
    for (const e of entries) {
      const key = `${hashKey(e.host, config.useHostnameForHashing)}_`;
      target += scale * e.weight;
      for (let i = 0; current < target; i++, current++) ring.push({ point: top32(hashOf(key + i)), host: e.host });
    }
    ring.sort((a, b) => a.point - b.point);
    this.points = Uint32Array.from(ring, (r) => r.point);
    this.#hosts = ring.map((r) => r.host);
  }

  get size(): number {
    return this.points.length;
  }

  /** Index of the first point ≥ `hash`, wrapping to 0 past the last one. */
  #lowerBound(hash: number): number {
    const pts = this.points;
    let lo = 0;
    let hi = pts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pts[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === pts.length ? 0 : lo;
  }

  pick(hash: number, attempt: number): H | undefined {
    const n = this.#hosts.length;
    if (n === 0) return undefined;
    // Retry host predicates: behave as if the chosen point were absent (Envoy: midp + attempt).
    return this.#hosts[(this.#lowerBound(hash) + attempt) % n];
  }
}

function checkSizes(min: number, max: number, path: string, problems: Problems): void {
  if (min > DEFAULT_MAX_RING_SIZE) problems.add(at(path, 'minimumRingSize'), `must be at most ${DEFAULT_MAX_RING_SIZE} (got ${min})`);
  if (max > DEFAULT_MAX_RING_SIZE) problems.add(at(path, 'maximumRingSize'), `must be at most ${DEFAULT_MAX_RING_SIZE} (got ${max})`);
  if (min > max) problems.add(at(path, 'minimumRingSize'), `is larger than maximum_ring_size (${min} > ${max})`);
}

/** `consistent_hashing_lb_config` (cluster common_lb_config or the typed policy). */
function consistentHashing(p: Proto, path: string, problems: Problems): boolean {
  const c = message(p, 'consistentHashingLbConfig', path, problems);
  const cp = at(path, 'consistentHashingLbConfig');
  if ((u32(c, 'hashBalanceFactor', cp, problems) ?? 0) > 0) problems.add(at(cp, 'hashBalanceFactor'), 'bounded-load consistent hashing is not supported');
  return bool(c, 'useHostnameForHashing', cp, problems);
}

function fromCluster(cluster: Proto, problems: Problems): RingHashConfig {
  const r = message(cluster, 'ringHashLbConfig', '', problems);
  const path = 'ringHashLbConfig';
  const minRingSize = u32(r, 'minimumRingSize', path, problems) ?? DEFAULT_MIN_RING_SIZE;
  const maxRingSize = u32(r, 'maximumRingSize', path, problems) ?? DEFAULT_MAX_RING_SIZE;
  checkSizes(minRingSize, maxRingSize, path, problems);
  const hashFunction = enumName(r, 'hashFunction', ['XX_HASH', 'MURMUR_HASH_2'], path, problems);
  const useHostnameForHashing = consistentHashing(message(cluster, 'commonLbConfig', '', problems), 'commonLbConfig', problems);
  return { minRingSize, maxRingSize, hashFunction, useHostnameForHashing };
}

function fromTyped(typed: Proto, path: string, problems: Problems): RingHashConfig {
  const minRingSize = u32(typed, 'minimumRingSize', path, problems) ?? DEFAULT_MIN_RING_SIZE;
  const maxRingSize = u32(typed, 'maximumRingSize', path, problems) ?? DEFAULT_MAX_RING_SIZE;
  checkSizes(minRingSize, maxRingSize, path, problems);
  const fn = enumName(typed, 'hashFunction', ['DEFAULT_HASH', 'XX_HASH', 'MURMUR_HASH_2'], path, problems);
  if ((u32(typed, 'hashBalanceFactor', path, problems) ?? 0) > 0) problems.add(at(path, 'hashBalanceFactor'), 'bounded-load consistent hashing is not supported');
  const useHostnameForHashing = has(typed, 'consistentHashingLbConfig')
    ? consistentHashing(typed, path, problems)
    : bool(typed, 'useHostnameForHashing', path, problems);
  return { minRingSize, maxRingSize, hashFunction: fn === 'MURMUR_HASH_2' ? fn : 'XX_HASH', useHostnameForHashing };
}

export const ringHash: LbPolicy<RingHashConfig> = {
  name: 'RING_HASH',
  typeUrls: [lbTypeUrl('ring_hash.v3.RingHash')],
  scope: 'priority',
  fromCluster,
  fromTyped,
  build: (entries, config) => (entries.length === 0 ? EMPTY_CHOOSER : new Ring(entries, config)),
};

export function setup(registry: LbRegistry): void {
  registry.register(ringHash);
}
