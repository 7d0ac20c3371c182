/**
 * Results remembered per object in a WeakMap: computed on first use, forgotten with the object. Used
 * where immutable inputs (config resources, registry workloads, compiled policies) are handed on
 * unchanged from one build to the next, so what was derived from them need not be derived again.
 */

/** A WeakMap, or a Map for keys that are not objects (an inner level of a per-object cache). */
export interface MemoCache<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
}

/** The value `cache` holds for `key`, made by `make(key)` and stored the first time (`make` must not return undefined). */
export function memoized<K, V, Key extends K = K>(cache: MemoCache<K, V>, key: Key, make: (key: Key) => V): V {
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = make(key)));
  return value;
}
