/**
 * Results remembered per object in a WeakMap: computed on first use, forgotten with the object. Used
 * where immutable inputs (config resources, registry workloads, compiled policies) are handed on
 * unchanged from one build to the next, so what was derived from them need not be derived again.
 */

/** The value `cache` holds for `key`, made by `make(key)` and stored the first time (`make` must not return undefined). */
export function memoized<K extends object, V, Key extends K = K>(cache: WeakMap<K, V>, key: Key, make: (key: Key) => V): V {
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = make(key)));
  return value;
}
