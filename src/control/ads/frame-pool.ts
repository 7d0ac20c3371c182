/**
 * Reusable memory for framed gRPC responses. A push hands HTTP/2 thousands of responses that live only
 * until the socket took them; a fresh Buffer each makes garbage that V8 frees only when it gets round to
 * collecting the Buffer objects: at 1,000 proxies ~100–200 MB of dead response bytes sat in memory after
 * an initial sync, and how much depended on when the collector ran. The transport knows when a write
 * completed, so responses are carved one after another from 160 KiB slabs, each slab counting the
 * responses still being written; a slab whose count reaches zero is reused. Nothing on the push path
 * is left for the garbage collector, and memory is bounded by the bytes in flight.
 * Responses larger than a slab (state-of-the-world responses of big meshes) get a buffer of their own.
 * Slabs that sat idle for `decayMs` are freed: a big push leaves up to `maxFree` of
 * them (64: ~10 MB after the initial sync of 2,000 proxies), which a quiet control plane has no use
 * for. Their memory is handed back at once (the ArrayBuffer is detached, which frees it without
 * waiting for a garbage collection); the next big push allocates again.
 */

/** Slab size: a delta chunk (128 KiB of resources) plus its framing and response fields. */
export const SLAB_BYTES = 160 * 2 ** 10;

/** A slab: its memory, how far it is handed out, and how many handed-out responses are not written yet. */
export interface Slab {
  readonly bytes: Buffer;
  used: number;
  outstanding: number;
  /** When it went back to the pool (`Date.now()`). */
  idleSince: number;
}

export class FramePool {
  readonly #free: Slab[] = [];
  readonly #maxFree: number;
  readonly #decayMs: number;
  /** The slab responses are carved from now. */
  #current: Slab | undefined;
  #decayTimer: NodeJS.Timeout | undefined;

  /**
   * Keeps at most `maxFree` idle slabs (the rest are left to the garbage collector), and frees those
   * not taken for `decayMs` (Infinity: never).
   */
  constructor(maxFree = 64, decayMs = 10_000) {
    this.#maxFree = maxFree;
    this.#decayMs = decayMs;
  }

  /** A buffer of exactly `size` bytes, and the slab to `give` back once it was written (undefined: none). */
  take(size: number): { readonly buf: Buffer; readonly slab: Slab | undefined } {
    if (size > SLAB_BYTES) return { buf: Buffer.allocUnsafeSlow(size), slab: undefined };
    let slab = this.#current;
    if (slab === undefined || slab.used + size > SLAB_BYTES) {
      if (slab !== undefined && slab.outstanding === 0) this.#release(slab);
      slab = this.#free.pop() ?? { bytes: Buffer.allocUnsafeSlow(SLAB_BYTES), used: 0, outstanding: 0, idleSince: 0 };
      slab.used = 0;
      this.#current = slab;
    }
    const buf = slab.bytes.subarray(slab.used, slab.used + size);
    slab.used += size;
    slab.outstanding++;
    return { buf, slab };
  }

  /** The transport no longer references one response carved from `slab`. */
  give(slab: Slab): void {
    slab.outstanding--;
    if (slab.outstanding === 0) {
      if (slab === this.#current) slab.used = 0; // nothing in it is in use: start it over
      else this.#release(slab);
    }
  }

  /** Idle slabs (for tests). */
  get idle(): number {
    return this.#free.length;
  }

  /** Frees every idle slab now (the server stopped). */
  clear(): void {
    clearTimeout(this.#decayTimer);
    this.#decayTimer = undefined;
    this.#drop(this.#free.length);
  }

  #release(slab: Slab): void {
    if (this.#free.length >= this.#maxFree) return;
    slab.idleSince = Date.now();
    this.#free.push(slab);
    if (this.#decayTimer === undefined) this.#armDecay(this.#decayMs);
  }

  /**
   * Frees the slabs idle for `decayMs`. `#free` is a stack in the order slabs came back (`take` pops
   * the newest), so they are the bottom of it.
   */
  #decay(): void {
    this.#decayTimer = undefined;
    const cutoff = Date.now() - this.#decayMs;
    let n = 0;
    while (n < this.#free.length && this.#free[n]!.idleSince <= cutoff) n++;
    this.#drop(n);
    const oldest = this.#free[0];
    if (oldest !== undefined) this.#armDecay(oldest.idleSince - cutoff);
  }

  #armDecay(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.#decayTimer = setTimeout(() => this.#decay(), ms);
    this.#decayTimer.unref();
  }

  /** Frees the `n` longest-idle slabs; detaching the ArrayBuffer frees its memory now, not at the next collection. */
  #drop(n: number): void {
    for (const slab of this.#free.splice(0, n)) (slab.bytes.buffer as ArrayBuffer).transfer(0);
  }
}
