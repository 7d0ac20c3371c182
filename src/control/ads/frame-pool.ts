/**
 * Reusable memory for framed gRPC responses. A push hands HTTP/2 thousands of responses that live only
 * until the socket took them; a fresh Buffer each makes garbage that V8 frees only when it gets round to
 * collecting the Buffer objects: at 1,000 proxies ~100–200 MB of dead response bytes sat in memory after
 * an initial sync, and how much depended on when the collector ran. The transport knows when a write
 * completed, so responses are carved one after another from 160 KiB slabs, each slab counting the
 * responses still being written; a slab whose count reaches zero is reused. Nothing on the push path
 * is left for the garbage collector, and memory is bounded by the bytes in flight.
 * Responses larger than a slab (state-of-the-world responses of big meshes) get a buffer of their own.
 */

/** Slab size: a delta chunk (128 KiB of resources) plus its framing and response fields. */
export const SLAB_BYTES = 160 * 2 ** 10;

/** A slab: its memory, how far it is handed out, and how many handed-out responses are not written yet. */
export interface Slab {
  readonly bytes: Buffer;
  used: number;
  outstanding: number;
}

export class FramePool {
  readonly #free: Slab[] = [];
  readonly #maxFree: number;
  /** The slab responses are carved from now. */
  #current: Slab | undefined;

  /** Keeps at most `maxFree` idle slabs (the rest are left to the garbage collector). */
  constructor(maxFree = 64) {
    this.#maxFree = maxFree;
  }

  /** A buffer of exactly `size` bytes, and the slab to `give` back once it was written (undefined: none). */
  take(size: number): { readonly buf: Buffer; readonly slab: Slab | undefined } {
    if (size > SLAB_BYTES) return { buf: Buffer.allocUnsafeSlow(size), slab: undefined };
    let slab = this.#current;
    if (slab === undefined || slab.used + size > SLAB_BYTES) {
      if (slab !== undefined && slab.outstanding === 0) this.#release(slab);
      slab = this.#free.pop() ?? { bytes: Buffer.allocUnsafeSlow(SLAB_BYTES), used: 0, outstanding: 0 };
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

  #release(slab: Slab): void {
    if (this.#free.length < this.#maxFree) this.#free.push(slab);
  }
}
