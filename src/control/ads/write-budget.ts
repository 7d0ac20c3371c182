/**
 * The server-wide cap on response bytes written but not yet taken by the transport (Istio's
 * PILOT_PUSH_THROTTLE idea, in bytes). Without it a push to a thousand proxies hands gRPC a thousand
 * large responses at once and they all sit in memory until the clients read them. Streams that find
 * the budget spent wait their turn and are resumed first come, first served as bytes drain; what they
 * owe is regenerated then, so waiting costs no memory.
 * A stream that makes no progress for `stallMs` (a client that stopped reading) stops counting, so a
 * few stuck clients cannot hold every other stream back; it counts again once it progresses.
 */

/** A stream that writes under the budget. */
export interface BudgetHolder {
  /** Called (from a later event-loop turn) when the budget has room again after `admit` said no. */
  resume(): void;
}

export interface WriteBudgetOptions {
  /** Bytes in flight over all streams above which no stream starts a new write (Infinity: no cap). */
  readonly limitBytes: number;
  /** How long a stream may hold bytes without progress before they stop counting. */
  readonly stallMs: number;
  /** Resuming waiting streams yields to the event loop after this long (ms), as push fan-out does. */
  readonly sliceMs: number;
}

interface Held {
  bytes: number;
  /** `performance.now()` of the last progress (first write, or a write completed). */
  since: number;
  stalled: boolean;
}

export class WriteBudget {
  readonly #limit: number;
  readonly #stallMs: number;
  readonly #sliceMs: number;
  readonly #held = new Map<BudgetHolder, Held>();
  readonly #waiting = new Set<BudgetHolder>();
  #counted = 0;
  #wakeScheduled = false;
  #stallTimer: NodeJS.Timeout | undefined;

  constructor(options: WriteBudgetOptions) {
    this.#limit = options.limitBytes;
    this.#stallMs = options.stallMs;
    this.#sliceMs = options.sliceMs;
  }

  /** Bytes in flight that count against the limit. */
  get inflight(): number {
    return this.#counted;
  }

  /** Streams waiting for room. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Whether `holder` may start a write now; if not, it is resumed when there is room. */
  admit(holder: BudgetHolder): boolean {
    if (this.#counted < this.#limit) return true;
    this.#waiting.add(holder);
    this.#armStallCheck();
    return false;
  }

  take(holder: BudgetHolder, bytes: number): void {
    const held = this.#held.get(holder);
    if (held === undefined) this.#held.set(holder, { bytes, since: performance.now(), stalled: false });
    else held.bytes += bytes;
    if (held?.stalled !== true) this.#counted += bytes;
  }

  /** `bytes` of `holder`'s writes were taken by the transport. */
  give(holder: BudgetHolder, bytes: number): void {
    const held = this.#held.get(holder);
    if (held === undefined) return;
    if (held.stalled) {
      held.stalled = false; // progress: it counts again
      this.#counted += held.bytes;
    }
    held.bytes -= bytes;
    held.since = performance.now();
    this.#counted -= bytes;
    if (held.bytes <= 0) this.#held.delete(holder);
    this.#scheduleWake();
  }

  /** The holder's stream ended: whatever it held is gone, and it waits no more. */
  release(holder: BudgetHolder): void {
    this.#waiting.delete(holder);
    const held = this.#held.get(holder);
    if (held === undefined) return;
    this.#held.delete(holder);
    if (!held.stalled) this.#counted -= held.bytes;
    this.#scheduleWake();
  }

  /** Stops timers and forgets waiters (server shutdown). */
  close(): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.#waiting.clear();
  }

  #scheduleWake(): void {
    if (this.#wakeScheduled || this.#waiting.size === 0 || this.#counted >= this.#limit) return;
    this.#wakeScheduled = true;
    setImmediate(() => this.#wake());
  }

  /** Resumes waiting streams in order while there is room (each resumed stream may take some), a time slice at a time. */
  #wake(): void {
    this.#wakeScheduled = false;
    const start = performance.now();
    for (const holder of this.#waiting) {
      if (this.#counted >= this.#limit) return;
      if (performance.now() - start > this.#sliceMs) break;
      this.#waiting.delete(holder);
      holder.resume();
    }
    this.#scheduleWake();
  }

  #armStallCheck(): void {
    if (this.#stallTimer !== undefined || !Number.isFinite(this.#stallMs)) return;
    this.#stallTimer = setTimeout(() => this.#checkStalls(), this.#stallMs);
    this.#stallTimer.unref();
  }

  #checkStalls(): void {
    this.#stallTimer = undefined;
    const now = performance.now();
    for (const held of this.#held.values()) {
      if (held.stalled || now - held.since < this.#stallMs) continue;
      held.stalled = true;
      this.#counted -= held.bytes;
    }
    this.#scheduleWake();
    if (this.#waiting.size > 0 && this.#counted >= this.#limit) this.#armStallCheck();
  }
}
