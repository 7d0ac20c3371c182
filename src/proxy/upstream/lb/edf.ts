/**
 * Earliest-deadline-first scheduling, Envoy's weighted round robin
 * (source/common/upstream/edf_scheduler.h): each entry's next deadline is `now + 1/weight`; a pick
 * takes the earliest (ties: insertion order) and re-inserts it. Two forms:
 * - `EdfScheduler`: floating-point weights that may change on every re-insertion (LEAST_REQUEST's
 *   active-request bias, locality weights).
 * - `WeightedCycle`: fixed integer weights with exact proportions: within every cycle of Σw picks each
 *   entry is picked exactly w times, in EDF order. Deadlines are computed fresh as k/w (no
 *   accumulated floating-point drift) and the cycle restarts when every entry used its weight.
 * Both are allocation-free per pick.
 */

interface Slot<T> {
  deadline: number;
  order: number;
  item: T;
}

function earlier<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
}

/** A binary min-heap of slots ordered by (deadline, order). */
class SlotHeap<T> {
  readonly slots: Slot<T>[] = [];

  get size(): number {
    return this.slots.length;
  }

  push(slot: Slot<T>): void {
    const s = this.slots;
    s.push(slot);
    let i = s.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const child = s[i]!;
      const up = s[parent]!;
      if (!earlier(child, up)) break;
      s[i] = up;
      s[parent] = child;
      i = parent;
    }
  }

  /** Restores the heap after the top slot's key grew. */
  siftDownTop(): void {
    const s = this.slots;
    const n = s.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && earlier(s[l]!, s[m]!)) m = l;
      if (r < n && earlier(s[r]!, s[m]!)) m = r;
      if (m === i) return;
      const down = s[i]!;
      s[i] = s[m]!;
      s[m] = down;
      i = m;
    }
  }

  popTop(): Slot<T> | undefined {
    const s = this.slots;
    const top = s[0];
    const last = s.pop();
    if (top !== undefined && last !== undefined && s.length > 0) {
      s[0] = last;
      this.siftDownTop();
    }
    return top;
  }
}

/** EDF over weights that may change at each pick. Entries with weight ≤ 0 are never added. */
export class EdfScheduler<T> {
  readonly #heap = new SlotHeap<T>();
  #now = 0;
  #order = 0;

  add(weight: number, item: T): void {
    if (!(weight > 0)) return;
    this.#heap.push({ deadline: this.#now + 1 / weight, order: this.#order++, item });
  }

  get empty(): boolean {
    return this.#heap.size === 0;
  }

  /** The earliest entry, re-inserted with the weight `weightOf` gives now (dropped when ≤ 0). */
  pickAndAdd(weightOf: (item: T) => number): T | undefined {
    const top = this.#heap.slots[0];
    if (top === undefined) return undefined;
    this.#now = top.deadline;
    const w = weightOf(top.item);
    if (w > 0) {
      top.deadline = this.#now + 1 / w;
      top.order = this.#order++;
      this.#heap.siftDownTop();
    } else {
      this.#heap.popTop();
    }
    return top.item;
  }
}

interface CycleSlot<T> extends Slot<T> {
  picks: number;
  readonly weight: number;
}

/** Exact weighted round robin over fixed positive integer weights (see the module comment). */
export class WeightedCycle<T> {
  readonly #all: CycleSlot<T>[];
  readonly #heap = new SlotHeap<T>();

  constructor(entries: readonly { readonly item: T; readonly weight: number }[]) {
    this.#all = entries
      .filter((e) => e.weight > 0)
      .map((e, i) => ({ deadline: 1 / e.weight, order: i, item: e.item, picks: 0, weight: e.weight }));
    this.#restart();
  }

  /** Σ weights: the length of one cycle. */
  get cycleLength(): number {
    let n = 0;
    for (const s of this.#all) n += s.weight;
    return n;
  }

  #restart(): void {
    for (const s of this.#all) {
      s.picks = 0;
      s.deadline = 1 / s.weight;
      this.#heap.push(s);
    }
  }

  next(): T | undefined {
    if (this.#heap.size === 0) {
      if (this.#all.length === 0) return undefined;
      this.#restart();
    }
    const top = this.#heap.slots[0] as CycleSlot<T>;
    top.picks++;
    if (top.picks < top.weight) {
      top.deadline = (top.picks + 1) / top.weight;
      this.#heap.siftDownTop();
    } else {
      this.#heap.popTop();
    }
    return top.item;
  }
}
