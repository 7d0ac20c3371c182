/**
 * Binary search over sorted arrays, for the places that keep a sorted list up to date between changes
 * (config snapshot order, registry workloads) instead of sorting it again.
 */

/**
 * The first index whose element is not `before` the wanted position: `list` must be partitioned (every
 * element for which `before` holds comes first). With `before = (x) => x < v` it is where `v` would be
 * inserted ahead of its equals; with `x <= v`, after them.
 */
export function partitionPoint<T>(list: readonly T[], before: (item: T) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
