/**
 * Resource-name lists shared across streams. A thousand proxies subscribing to the same names get the
 * identical frozen array (so a resource server can memoize `generate` by the array's identity), and a
 * request whose resource_names bytes equal a list already seen is never decoded or sorted again.
 * Entries are held weakly: a list lives while a stream (or the resource server) still uses it.
 */

/** A resource_names list as it came off the wire, shared by every request that carried the same bytes. */
export interface WireNames {
  /** The resource_names fields as sent (tags and lengths included). */
  readonly bytes: Buffer;
  /** Sorted, without duplicates, frozen and interned (see `NameInterner.sorted`). */
  readonly sorted: readonly string[];
  /** Whether the request named no resource at all (legacy wildcard for some types). */
  readonly empty: boolean;
  /** Whether the request named the wildcard `*`. */
  readonly star: boolean;
}

const SEPARATOR = '\u0000';

/**
 * A key for resource_names bytes without reading them all: the length and a few sampled words. Lists
 * that share a key are told apart by comparing their bytes (memcmp), so sampling only sizes buckets.
 */
function sampleKey(bytes: Buffer): string {
  const n = bytes.length;
  if (n < 64) return bytes.toString('latin1');
  let key = `${n}`;
  const step = Math.floor((n - 4) / 15);
  for (let i = 0; i < 16; i++) key += `:${bytes.readUInt32LE(i === 15 ? n - 4 : i * step)}`;
  return key;
}

/** A map of weakly held values, whose entries are dropped once their value is collected. */
class WeakValues<V extends object> {
  readonly #map = new Map<string, WeakRef<V>>();
  readonly #registry = new FinalizationRegistry<string>((key) => {
    if (this.#map.get(key)?.deref() === undefined) this.#map.delete(key);
  });

  get(key: string): V | undefined {
    return this.#map.get(key)?.deref();
  }

  set(key: string, value: V): void {
    this.#map.set(key, new WeakRef(value));
    this.#registry.register(value, key);
  }

  get size(): number {
    return this.#map.size;
  }
}

/** Like `WeakValues`, with several values per key (told apart by the caller). */
class WeakBuckets<V extends object> {
  readonly #map = new Map<string, WeakRef<V>[]>();
  readonly #registry = new FinalizationRegistry<string>((key) => {
    const live = this.#map.get(key)?.filter((ref) => ref.deref() !== undefined) ?? [];
    if (live.length === 0) this.#map.delete(key);
    else this.#map.set(key, live);
  });

  find(key: string, match: (value: V) => boolean): V | undefined {
    for (const ref of this.#map.get(key) ?? []) {
      const value = ref.deref();
      if (value !== undefined && match(value)) return value;
    }
    return undefined;
  }

  add(key: string, value: V): void {
    const bucket = this.#map.get(key);
    if (bucket === undefined) this.#map.set(key, [new WeakRef(value)]);
    else bucket.push(new WeakRef(value));
    this.#registry.register(value, key);
  }

  get size(): number {
    let n = 0;
    for (const bucket of this.#map.values()) n += bucket.length;
    return n;
  }
}

export class NameInterner {
  readonly #sorted = new WeakValues<readonly string[]>();
  readonly #wire = new WeakBuckets<WireNames>();
  readonly #sets = new WeakMap<readonly string[], ReadonlySet<string>>();

  /**
   * The shared set of an interned sorted list (from `sorted`): a thousand streams subscribed to the same
   * three thousand names hold one set between them, not three million entries.
   */
  setOf(sorted: readonly string[]): ReadonlySet<string> {
    let set = this.#sets.get(sorted);
    if (set === undefined) this.#sets.set(sorted, (set = new Set(sorted)));
    return set;
  }

  /**
   * The shared frozen array of `names`, sorted and without duplicates: equal lists give the identical
   * array. `names` may be a sorted array already (it is then checked, not re-sorted).
   */
  sorted(names: Iterable<string>): readonly string[] {
    const list = canonical(names);
    const key = list.join(SEPARATOR);
    const known = this.#sorted.get(key);
    if (known !== undefined && sameList(known, list)) return known;
    if (known !== undefined) return Object.freeze(list); // two lists whose names contain the separator: do not share
    Object.freeze(list);
    this.#sorted.set(key, list);
    return list;
  }

  /** The shared entry for resource_names `bytes` (copied when new); `decode` runs only for bytes not seen before. */
  fromWire(bytes: Buffer, decode: () => readonly string[]): WireNames {
    const key = sampleKey(bytes);
    const known = this.#wire.find(key, (entry) => entry.bytes.equals(bytes));
    if (known !== undefined) return known;
    const names = decode();
    const entry: WireNames = Object.freeze({
      bytes: Buffer.from(bytes),
      sorted: this.sorted(names),
      empty: names.length === 0,
      star: names.includes('*'),
    });
    this.#wire.add(key, entry);
    return entry;
  }

  /** Distinct lists currently interned (for tests and debug output). */
  get size(): { readonly sorted: number; readonly wire: number } {
    return { sorted: this.#sorted.size, wire: this.#wire.size };
  }
}

/** A fresh sorted, de-duplicated copy (a linear check first: lists usually arrive sorted and unique). */
function canonical(names: Iterable<string>): string[] {
  const list = Array.isArray(names) ? (names as string[]).slice() : [...names];
  let ordered = true;
  for (let i = 1; i < list.length && ordered; i++) ordered = list[i - 1]! < list[i]!;
  if (ordered) return list;
  list.sort();
  let w = 0;
  for (let i = 0; i < list.length; i++) if (i === 0 || list[i] !== list[w - 1]) list[w++] = list[i]!;
  list.length = w;
  return list;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
