/**
 * Puts a push's fan-out ahead of the requests that arrive while it runs. During a push to a thousand
 * proxies their ACKs come back while the server is still writing to the rest, and handling each (decode,
 * bookkeeping, metrics) between the writes delays the last proxies' responses by all of them. While the
 * gate is shut, streams hold the requests they receive, undecoded and stamped with their arrival time;
 * they get them back in order when the fan-out is over, or once the oldest has waited `maxHoldMs`, so a
 * stream of pushes that never ends cannot starve requests. A proxy that connects during a fan-out waits
 * too: it serves nothing until it holds its whole configuration, whereas every proxy of the fan-out
 * serves traffic with stale configuration until its push is out. (In the control-plane benchmark,
 * answering a connecting proxy at once left its multi-megabyte initial sync competing with the fan-out
 * its own arrival causes, and workload joins missed their target.)
 */

/** A stream with held requests: `release` hands them all to its handler, in arrival order. */
export interface HeldRequests {
  release(): void;
}

export class RequestGate {
  readonly #maxHoldMs: number;
  #shut = false;
  #held: HeldRequests[] = [];
  /** `performance.now()` of the oldest held request. */
  #since = 0;

  constructor(maxHoldMs: number) {
    this.#maxHoldMs = maxHoldMs;
  }

  /** Whether requests are held now. */
  get shut(): boolean {
    return this.#shut;
  }

  /** How many streams hold requests now. */
  get holding(): number {
    return this.#held.length;
  }

  /** A fan-out begins: requests are held from now on. */
  shutNow(): void {
    this.#shut = true;
  }

  /** Called by a stream when it holds its first request (it holds later ones on its own until released). */
  hold(stream: HeldRequests): void {
    if (this.#held.length === 0) this.#since = performance.now();
    this.#held.push(stream);
  }

  /** The fan-out is over: every held request is handed back, and requests are no longer held. */
  open(): void {
    this.#shut = false;
    this.#releaseAll();
  }

  /** The fan-out goes on: hands back what has been held for too long (then holds again). */
  check(now: number): void {
    if (this.#held.length > 0 && now - this.#since >= this.#maxHoldMs) this.#releaseAll();
  }

  #releaseAll(): void {
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    for (const stream of held) stream.release();
  }
}
