/**
 * Debounces bursts of changes into pushes (Istio's PILOT_DEBOUNCE_AFTER / _MAX), with a leading edge:
 * - A change that comes after a quiet time (no push for `delayMs`) is pushed at once: at the end of the
 *   event-loop turn that made it, so that changes made together still go out as one push. Istio waits
 *   `delayMs` even then, which every single `weft apply` would pay in full.
 * - Changes that follow within `delayMs` of a push are a burst: they are merged and pushed once they stop
 *   for `delayMs`, or `maxDelayMs` after the first of them, whichever comes first.
 * A burst thus costs at most one push more than with a trailing-only debounce, and never a push storm.
 * Merged changes remember the earliest change time (for convergence metrics), the union of the xDS types
 * they affect (only EDS for endpoint changes: the fast path), and the union of the hosts they touched
 * (endpoints and definitions; routes).
 */

/** `all` when a change may affect every type (or host). */
export type Scope = ReadonlySet<string> | 'all';

export interface Change {
  /** xDS type URLs that may have changed. */
  readonly types: Scope;
  /** Service hostnames whose endpoints or definition may have changed (EDS reuse for the others). */
  readonly hosts: Scope;
  /** Host patterns whose sidecar virtual hosts may have changed (route reuse for the others). */
  readonly routeHosts: Scope;
  readonly reason: string;
  /** `performance.now()` when the change happened. */
  readonly at: number;
}

export interface MergedChange {
  readonly types: Scope;
  readonly hosts: Scope;
  readonly routeHosts: Scope;
  readonly reasons: ReadonlySet<string>;
  /** Earliest change in the batch. */
  readonly at: number;
  readonly count: number;
}

function union(a: Scope, b: Scope): Scope {
  if (a === 'all' || b === 'all') return 'all';
  return new Set([...a, ...b]);
}

export class Debouncer {
  readonly #delayMs: number;
  readonly #maxDelayMs: number;
  readonly #flush: (batch: MergedChange) => void;
  #batch: { types: Scope; hosts: Scope; routeHosts: Scope; reasons: Set<string>; at: number; count: number } | undefined;
  #quietTimer: NodeJS.Timeout | undefined;
  #maxTimer: NodeJS.Timeout | undefined;
  /** The pending batch goes out at the end of this turn (a leading-edge push). */
  #leading: NodeJS.Immediate | undefined;
  /** `performance.now()` of the last push. */
  #lastFlush = -Infinity;

  constructor(delayMs: number, flush: (batch: MergedChange) => void, maxDelayMs = Math.max(delayMs * 10, 1000)) {
    this.#delayMs = delayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#flush = flush;
  }

  add(change: Change): void {
    const b = this.#batch;
    if (b === undefined) {
      this.#batch = { types: change.types, hosts: change.hosts, routeHosts: change.routeHosts, reasons: new Set([change.reason]), at: change.at, count: 1 };
      if (performance.now() - this.#lastFlush >= this.#delayMs) {
        // Not unref'd: an unref'd immediate lets the loop block in poll and run it only after the next I/O.
        this.#leading = setImmediate(() => this.flushNow());
        return;
      }
      this.#maxTimer = setTimeout(() => this.flushNow(), this.#maxDelayMs);
      this.#maxTimer.unref();
    } else {
      b.types = union(b.types, change.types);
      b.hosts = union(b.hosts, change.hosts);
      b.routeHosts = union(b.routeHosts, change.routeHosts);
      b.reasons.add(change.reason);
      b.at = Math.min(b.at, change.at);
      b.count++;
      if (this.#leading !== undefined) return;
    }
    clearTimeout(this.#quietTimer);
    this.#quietTimer = setTimeout(() => this.flushNow(), this.#delayMs);
    this.#quietTimer.unref();
  }

  /** Pushes what is pending now (also used on shutdown and by tests). */
  flushNow(): void {
    this.#clearTimers();
    const b = this.#batch;
    this.#batch = undefined;
    if (b === undefined) return;
    this.#lastFlush = performance.now();
    this.#flush(b);
  }

  get pending(): boolean {
    return this.#batch !== undefined;
  }

  close(): void {
    this.#clearTimers();
    this.#batch = undefined;
  }

  #clearTimers(): void {
    clearTimeout(this.#quietTimer);
    clearTimeout(this.#maxTimer);
    clearImmediate(this.#leading);
    this.#quietTimer = this.#maxTimer = this.#leading = undefined;
  }
}
