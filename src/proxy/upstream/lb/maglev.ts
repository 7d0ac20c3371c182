/**
 * MAGLEV: Envoy's Maglev table (source/extensions/load_balancing_policies/maglev/maglev_lb.cc, after
 * "Maglev: A Fast and Reliable Software Network Load Balancer", listing 1). Hosts sorted by hash key
 * (`ip:port`, or the hostname with use_hostname_for_hashing); each host's permutation is
 * offset = xxHash64(key, 0) mod M, skip = xxHash64(key, 1) mod (M − 1) + 1; the table (M = 65537 by
 * default, prime) is filled round by round, a host with a smaller normalized weight taking a slot only
 * every max/weight rounds. The table's contents match Envoy's; a request uses slot `hash mod M` of its
 * 32-bit hash position (Envoy: of the 64-bit hash).
 */
import { xxHash64 } from './hash.ts';
import type { LbRegistry } from './registry.ts';
import { lbTypeUrl } from './registry.ts';
import { hashKey } from './ring-hash.ts';
import type { Chooser, LbHost, LbPolicy, WeightedEntry } from './types.ts';
import { EMPTY_CHOOSER } from './types.ts';
import type { Problems, Proto } from '../proto-read.ts';
import { at, bool, has, message, u32 } from '../proto-read.ts';

export interface MaglevConfig {
  readonly tableSize: number;
  readonly useHostnameForHashing: boolean;
}

export const DEFAULT_TABLE_SIZE = 65537;
const MAX_TABLE_SIZE = 5000011;

interface BuildEntry<H> {
  readonly host: H;
  readonly key: string;
  readonly offset: number;
  readonly skip: number;
  readonly weight: number;
  targetWeight: number;
  next: number;
  count: number;
}

export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

export class MaglevTable<H extends LbHost> implements Chooser<H> {
  /** Slot → index into `hosts`. */
  readonly slots: Int32Array;
  readonly hosts: readonly H[];

  constructor(entries: readonly WeightedEntry<H>[], config: MaglevConfig) {
    const m = config.tableSize;
    const build: BuildEntry<H>[] = entries
      .map((e) => ({ e, key: hashKey(e.host, config.useHostnameForHashing) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ e, key }) => ({
        host: e.host,
        key,
        offset: Number(xxHash64(key, 0n) % BigInt(m)),
        skip: Number(xxHash64(key, 1n) % BigInt(m - 1)) + 1,
        weight: e.weight,
        targetWeight: 0,
        next: 0,
        count: 0,
      }));
    this.hosts = build.map((b) => b.host);
    this.slots = new Int32Array(m).fill(-1);
    if (build.length > 0) this.#fill(build, m);
  }

  #fill(build: BuildEntry<H>[], m: number): void {
    let max = 0;
    for (const b of build) max = Math.max(max, b.weight);
    let filled = 0;
    for (let iteration = 1; filled < m; iteration++) {
      for (let i = 0; i < build.length && filled < m; i++) {
        const b = build[i]!;
        if (iteration * b.weight < b.targetWeight) continue;
        b.targetWeight += max;
        let c = (b.offset + b.skip * b.next) % m;
        while (this.slots[c] !== -1) {
          b.next++;
          c = (b.offset + b.skip * b.next) % m;
        }
        this.slots[c] = i;
        b.next++;
        b.count++;
        filled++;
      }
    }
  }

  pick(hash: number, attempt: number): H | undefined {
    if (this.hosts.length === 0) return undefined;
    // Retry host predicates: flip many bits of the hash per attempt, as Envoy does (hash ^= ~0 - attempt + 1).
    const h = attempt > 0 ? (hash ^ (0x100000000 - attempt)) >>> 0 : hash;
    return this.hosts[this.slots[h % this.slots.length]!];
  }
}

function useHostname(p: Proto, path: string, problems: Problems): boolean {
  const c = message(p, 'consistentHashingLbConfig', path, problems);
  const cp = at(path, 'consistentHashingLbConfig');
  if ((u32(c, 'hashBalanceFactor', cp, problems) ?? 0) > 0) problems.add(at(cp, 'hashBalanceFactor'), 'bounded-load consistent hashing is not supported');
  return bool(c, 'useHostnameForHashing', cp, problems);
}

function tableSize(p: Proto, path: string, problems: Problems): number {
  const size = u32(p, 'tableSize', path, problems) ?? DEFAULT_TABLE_SIZE;
  if (size > MAX_TABLE_SIZE) problems.add(at(path, 'tableSize'), `must be at most ${MAX_TABLE_SIZE} (got ${size})`);
  else if (!isPrime(size)) problems.add(at(path, 'tableSize'), `must be a prime number (got ${size})`);
  return size > MAX_TABLE_SIZE || !isPrime(size) ? DEFAULT_TABLE_SIZE : size;
}

export const maglev: LbPolicy<MaglevConfig> = {
  name: 'MAGLEV',
  typeUrls: [lbTypeUrl('maglev.v3.Maglev')],
  scope: 'priority',
  fromCluster: (cluster, problems) => ({
    tableSize: tableSize(message(cluster, 'maglevLbConfig', '', problems), 'maglevLbConfig', problems),
    useHostnameForHashing: useHostname(message(cluster, 'commonLbConfig', '', problems), 'commonLbConfig', problems),
  }),
  fromTyped: (typed, path, problems) => ({
    tableSize: tableSize(typed, path, problems),
    useHostnameForHashing: has(typed, 'consistentHashingLbConfig') ? useHostname(typed, path, problems) : false,
  }),
  build: (entries, config) => (entries.length === 0 ? EMPTY_CHOOSER : new MaglevTable(entries, config)),
};

export function setup(registry: LbRegistry): void {
  registry.register(maglev);
}
