/**
 * Envoy's priority load and panic computation, as pure functions
 * (source/extensions/load_balancing_policies/common/load_balancer_impl.cc: recalculatePerPriorityState,
 * recalculatePerPriorityPanic, recalculateLoadInTotalPanic, choosePriority).
 * - A priority's health is `min(100, overprovisioning_factor × healthy / total)` (factor 140 by default,
 *   in percent): 72% healthy hosts still take 100% of the load.
 * - Load goes to the highest priority (0) first, and spills to the next ones as health drops; when the
 *   total health is under 100, loads are scaled up so they still sum to 100.
 * - A priority is in panic when the total health is under 100 and its share of healthy + degraded
 *   hosts is under the panic threshold (50% by default): it then balances over all its hosts. When every
 *   priority is in panic, load follows host counts.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/priority
 */

export interface PriorityCounts {
  /** Hosts in the priority (or their weight sum with weighted priority health). */
  readonly total: number;
  readonly healthy: number;
  readonly degraded: number;
  /** Host counts, always by number of hosts (panic and total-panic use counts, never weights). */
  readonly hostCount: number;
  readonly healthyCount: number;
  readonly degradedCount: number;
}

export interface PriorityLoads {
  /** Percent of requests per priority that go to its healthy hosts (sums with `degraded` to 100). */
  readonly healthy: readonly number[];
  readonly degraded: readonly number[];
  readonly panic: readonly boolean[];
}

function health(part: number, total: number, factor: number): number {
  return total === 0 ? 0 : Math.min(100, Math.floor((factor * part) / total));
}

/** Assigns as much load as possible to the highest priorities; returns the first available one and what is left. */
function distribute(load: number[], availability: readonly number[], totalLoad: number, normalizedTotal: number): { first: number; left: number } {
  let first = -1;
  let left = totalLoad;
  for (let i = 0; i < availability.length; i++) {
    if (first < 0 && availability[i]! > 0) first = i;
    load[i] = Math.min(left, Math.floor((availability[i]! * 100) / normalizedTotal));
    left -= load[i]!;
  }
  return { first, left };
}

function inPanic(c: PriorityCounts, threshold: number): boolean {
  const pct = c.hostCount === 0 ? 0 : (100 * (c.healthyCount + c.degradedCount)) / c.hostCount;
  return pct < threshold;
}

function totalPanicLoads(levels: readonly PriorityCounts[]): number[] {
  const load = levels.map(() => 0);
  const total = levels.reduce((s, c) => s + c.hostCount, 0);
  if (total === 0) {
    if (load.length > 0) load[0] = 100;
    return load;
  }
  let left = 100;
  let firstNonEmpty = -1;
  levels.forEach((c, i) => {
    if (firstNonEmpty < 0 && c.hostCount > 0) firstNonEmpty = i;
    load[i] = Math.floor((100 * c.hostCount) / total);
    left -= load[i]!;
  });
  load[firstNonEmpty] = load[firstNonEmpty]! + left;
  return load;
}

/**
 * Loads and panic flags for the priorities of a cluster. `factor` is the overprovisioning factor in
 * percent (140), `panicThreshold` in percent (50; 0 disables panic).
 */
export function priorityLoads(levels: readonly PriorityCounts[], factor: number, panicThreshold: number): PriorityLoads {
  const healthyAvail = levels.map((c) => health(c.healthy, c.total, factor));
  const degradedAvail = levels.map((c) => health(c.degraded, c.total, factor));
  const healthy = levels.map(() => 0);
  const degraded = levels.map(() => 0);
  const normalizedTotal = Math.min(100, healthyAvail.reduce((s, v) => s + v, 0) + degradedAvail.reduce((s, v) => s + v, 0));
  if (normalizedTotal > 0) {
    const h = distribute(healthy, healthyAvail, 100, normalizedTotal);
    const d = distribute(degraded, degradedAvail, h.left, normalizedTotal);
    if (d.left !== 0) {
      if (h.first >= 0) healthy[h.first]! += d.left;
      else degraded[d.first]! += d.left;
    }
  }
  const threshold = Math.min(100, panicThreshold);
  if (threshold === 0 && normalizedTotal === 0) {
    if (healthy.length > 0) healthy[0] = 100;
    return { healthy, degraded, panic: levels.map(() => false) };
  }
  const panic = levels.map((c) => normalizedTotal !== 100 && inPanic(c, threshold));
  if (panic.length > 0 && panic.every(Boolean)) return { healthy: totalPanicLoads(levels), degraded: levels.map(() => 0), panic };
  return { healthy, degraded, panic };
}

/**
 * The priority for a number, Envoy's choosePriority over `hash % 100 + 1`: `2 × priority`, plus 1 when
 * the pick goes to the priority's degraded hosts (an integer, so the per-request path allocates nothing).
 */
export function choosePriority(loads: PriorityLoads, hash: number): number {
  const point = (hash % 100) + 1;
  let sum = 0;
  for (let i = 0; i < loads.healthy.length; i++) {
    sum += loads.healthy[i]!;
    if (point <= sum) return 2 * i;
  }
  for (let i = 0; i < loads.degraded.length; i++) {
    sum += loads.degraded[i]!;
    if (point <= sum) return 2 * i + 1;
  }
  return 0;
}
