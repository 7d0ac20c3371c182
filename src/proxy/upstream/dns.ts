/**
 * DNS resolution for STRICT_DNS and LOGICAL_DNS clusters. Each endpoint name of the cluster's
 * `load_assignment` is resolved in the background with `node:dns/promises` (getaddrinfo, so
 * `/etc/hosts` and `localhost` work; explicit resolvers use DNS directly) and re-resolved every
 * `dns_refresh_rate`, or at the records' TTL with `respect_dns_ttl` (clamped to at least 1 s). A failed
 * resolution keeps the previous addresses and retries with exponential backoff from
 * `dns_failure_refresh_rate`, as Envoy does. Nothing waits on DNS: the cluster simply has no hosts
 * until the first answer arrives. IP literals need no lookup.
 */
import { isIP } from 'node:net';
import { lookup, Resolver } from 'node:dns/promises';
import type { DnsOptions, LookupFamily } from './dns-config.ts';

export interface DnsAnswer {
  readonly addresses: readonly string[];
  /** The smallest TTL of the answer's records, when known. */
  readonly ttlMs?: number;
}

/** Resolves names; injectable so tests can script answers. */
export interface DnsResolver {
  resolve(name: string, options: DnsOptions): Promise<DnsAnswer>;
}

function pick(v4: readonly string[], v6: readonly string[], family: LookupFamily): string[] {
  switch (family) {
    case 'V4_ONLY': return [...v4];
    case 'V6_ONLY': return [...v6];
    case 'V4_PREFERRED': return v4.length > 0 ? [...v4] : [...v6];
    case 'AUTO': return v6.length > 0 ? [...v6] : [...v4];
    case 'ALL': return [...v4, ...v6];
  }
}

async function viaServers(name: string, options: DnsOptions): Promise<DnsAnswer> {
  const r = new Resolver();
  r.setServers([...options.resolvers]);
  const wants4 = options.family !== 'V6_ONLY';
  const wants6 = options.family !== 'V4_ONLY';
  const [a, aaaa] = await Promise.all([
    wants4 ? r.resolve4(name, { ttl: true }).catch(() => []) : [],
    wants6 ? r.resolve6(name, { ttl: true }).catch(() => []) : [],
  ]);
  const addresses = pick(a.map((x) => x.address), aaaa.map((x) => x.address), options.family);
  if (addresses.length === 0) throw Object.assign(new Error(`no addresses for ${name}`), { code: 'ENOTFOUND' });
  const ttls = [...a, ...aaaa].map((x) => x.ttl);
  return ttls.length > 0 ? { addresses, ttlMs: Math.min(...ttls) * 1000 } : { addresses };
}

/** The TTL DNS gives the name, or undefined when DNS does not know it (e.g. only in /etc/hosts). */
async function ttlOf(name: string): Promise<number | undefined> {
  const records = await Promise.all([
    new Resolver().resolve4(name, { ttl: true }).catch(() => []),
    new Resolver().resolve6(name, { ttl: true }).catch(() => []),
  ]);
  const ttls = records.flat().map((x) => x.ttl);
  return ttls.length > 0 ? Math.min(...ttls) * 1000 : undefined;
}

export const systemResolver: DnsResolver = {
  async resolve(name, options) {
    if (isIP(name) !== 0) return { addresses: [name] };
    if (options.resolvers.length > 0) return viaServers(name, options);
    const family = options.family === 'V4_ONLY' ? 4 : options.family === 'V6_ONLY' ? 6 : 0;
    const [all, ttlMs] = await Promise.all([lookup(name, { all: true, family }), options.respectTtl ? ttlOf(name) : undefined]);
    const addresses = pick(all.filter((x) => x.family === 4).map((x) => x.address), all.filter((x) => x.family === 6).map((x) => x.address), options.family);
    if (addresses.length === 0) throw Object.assign(new Error(`no addresses for ${name}`), { code: 'ENOTFOUND' });
    return ttlMs === undefined ? { addresses } : { addresses, ttlMs };
  },
};

const MIN_TTL_REFRESH_MS = 1000;

/** Keeps one name resolved; calls `onChange` whenever its addresses change. */
export class DnsTarget {
  readonly name: string;
  addresses: readonly string[] | undefined;
  /** Whether a first resolution was attempted (answered or failed): Envoy's cluster warming ends then. */
  settled = false;
  readonly #options: DnsOptions;
  readonly #resolver: DnsResolver;
  readonly #onChange: () => void;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #stopped = false;

  /** `onChange` runs when the addresses change, and once after the first attempt even if it failed. */
  constructor(name: string, options: DnsOptions, resolver: DnsResolver, onChange: () => void, seed?: readonly string[]) {
    this.name = name;
    this.#options = options;
    this.#resolver = resolver;
    this.#onChange = onChange;
    this.addresses = seed;
    this.settled = seed !== undefined;
  }

  start(): void {
    void this.#resolve();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #resolve(): Promise<void> {
    let delay: number;
    try {
      const answer = await this.#resolver.resolve(this.name, this.#options);
      if (this.#stopped) return;
      this.#failures = 0;
      const changed = !this.settled || this.addresses === undefined || answer.addresses.join(',') !== this.addresses.join(',');
      this.addresses = answer.addresses;
      this.settled = true;
      if (changed) this.#onChange();
      delay = this.#options.respectTtl && answer.ttlMs !== undefined && answer.ttlMs > 0
        ? Math.max(MIN_TTL_REFRESH_MS, answer.ttlMs)
        : this.#options.refreshMs;
    } catch {
      if (this.#stopped) return;
      if (!this.settled) {
        this.settled = true;
        this.#onChange();
      }
      delay = Math.min(this.#options.failureMaxMs, this.#options.failureBaseMs * 2 ** this.#failures++);
    }
    this.#timer = setTimeout(() => void this.#resolve(), delay);
    this.#timer.unref();
  }
}
