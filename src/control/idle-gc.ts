/**
 * Full garbage collections at quiet moments rather than in the middle of a push. A push to a thousand
 * proxies leaves old-generation garbage behind (per-stream state of the previous versions, promoted
 * buffers); V8 collects it when the old generation reaches its limit, which is usually in the middle of
 * the next push, adding 50–100 ms to that push's slowest proxy. When the control plane has been idle for
 * a while (no push, no ACK) and the old generation grew well past what the last full collection left,
 * this runs that collection now, between changes. It needs `gc` (node `--expose-gc`, which `weft control`
 * sets); without it, it does nothing.
 */
import { getHeapSpaceStatistics } from 'node:v8';

type Gc = (options: { type: 'major'; execution: 'async' }) => Promise<void>;

export interface IdleCollectorOptions {
  /** Quiet time before collecting (default 150 ms). */
  readonly idleMs?: number;
  /**
   * Collect when the old generation is this much larger than after the last full collection (default
   * 1.05). It must stay below where V8 starts its own marking cycle (~1.1× at a control plane's heap;
   * a push to 1,000 proxies promotes ~2.5 MB), or V8 starts it in the middle of a push.
   */
  readonly growth?: number;
  /** …and at least this many bytes larger (default 4 MiB). */
  readonly minGrowthBytes?: number;
  /** The collector (default: `globalThis.gc` when exposed). */
  readonly gc?: Gc;
  /** Bytes in the old generation now (default: V8's old space in use). */
  readonly oldBytes?: () => number;
  /** Called after each collection with its duration (ms) and the old generation before and after (bytes). */
  readonly collected?: (info: { readonly ms: number; readonly before: number; readonly after: number }) => void;
}

export class IdleCollector {
  readonly #idleMs: number;
  readonly #growth: number;
  readonly #minGrowth: number;
  readonly #gc: Gc | undefined;
  readonly #oldBytes: () => number;
  readonly #collected: IdleCollectorOptions['collected'];
  #lastActive = 0;
  #timer: NodeJS.Timeout | undefined;
  #baseline: number;
  #collections = 0;
  #collecting = false;

  constructor(opts: IdleCollectorOptions = {}) {
    this.#idleMs = opts.idleMs ?? 150;
    this.#growth = opts.growth ?? 1.05;
    this.#minGrowth = opts.minGrowthBytes ?? 4 * 1024 * 1024;
    this.#gc = opts.gc ?? (globalThis as { gc?: Gc }).gc;
    this.#oldBytes = opts.oldBytes ?? oldSpaceUsed;
    this.#collected = opts.collected;
    this.#baseline = this.#gc === undefined ? 0 : this.#oldBytes();
  }

  /** Whether collections can run (`gc` is available). */
  get enabled(): boolean {
    return this.#gc !== undefined;
  }

  /** Full collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  /** Something happened (a push, a response written, an ACK): the quiet time starts again. Cheap. */
  touch(): void {
    if (this.#gc === undefined) return;
    this.#lastActive = performance.now();
    if (this.#timer === undefined) this.#arm(this.#idleMs);
  }

  /** Stops the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms);
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    const quietFor = performance.now() - this.#lastActive;
    if (quietFor < this.#idleMs) return this.#arm(this.#idleMs - quietFor);
    const old = this.#oldBytes();
    // A collection since the last one (V8's own) may have left less than the baseline: follow it down.
    if (old < this.#baseline) this.#baseline = old;
    if (this.#collecting || old < this.#baseline * this.#growth || old - this.#baseline < this.#minGrowth) return;
    this.#collecting = true;
    const t0 = performance.now();
    this.#gc!({ type: 'major', execution: 'async' }).then(() => {
      this.#collections++;
      this.#baseline = this.#oldBytes();
      this.#collected?.({ ms: performance.now() - t0, before: old, after: this.#baseline });
    }, () => undefined).finally(() => {
      this.#collecting = false;
    });
  }
}

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}
