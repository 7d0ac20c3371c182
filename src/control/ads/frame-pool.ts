/**
 * Reusable buffers for framed gRPC responses. A push hands HTTP/2 thousands of responses of up to
 * ~128 KiB (delta responses are chunked to that size) that live only until the socket took them; a fresh
 * buffer each time makes gigabytes of garbage during an initial sync, freed only when V8 gets round to
 * collecting the Buffer objects that hold them. The transport knows when a write completed, so it
 * gives the buffer back here and the next response reuses it.
 * Responses larger than a slab (state-of-the-world responses of big meshes) get a buffer of their own.
 */

/** Slab size: a delta chunk (128 KiB of resources) plus its framing and response fields. */
export const SLAB_BYTES = 160 * 2 ** 10;

export class FramePool {
  readonly #free: Buffer[] = [];
  readonly #maxFree: number;

  /** Keeps at most `maxFree` idle slabs (the rest are left to the garbage collector). */
  constructor(maxFree = 64) {
    this.#maxFree = maxFree;
  }

  /** A buffer of exactly `size` bytes; `pooled` says whether to `give` its slab back once written. */
  take(size: number): { readonly buf: Buffer; readonly slab: Buffer | undefined } {
    if (size > SLAB_BYTES) return { buf: Buffer.allocUnsafeSlow(size), slab: undefined };
    const slab = this.#free.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
    return { buf: slab.subarray(0, size), slab };
  }

  /** The transport no longer references `slab`. */
  give(slab: Buffer): void {
    if (this.#free.length < this.#maxFree) this.#free.push(slab);
  }

  /** Idle slabs (for tests). */
  get idle(): number {
    return this.#free.length;
  }
}
