/**
 * Puts a push's fan-out ahead of the requests that arrive while it is coming. During a push to a
 * thousand proxies their ACKs come back while the server is still writing to the rest, and handling each
 * (decode, bookkeeping, metrics) between the writes delays the last proxies' responses by all of them.
 * The gate shuts when a change is recorded (`AdsServer.expectPush`) or a push starts to fan out; while it
 * is shut, streams hold the requests they receive, undecoded and stamped with their arrival time. They
 * get them back in order at the turn after the fan-out is over, or once the oldest has waited
 * `maxHoldMs`, so a stream of pushes that never ends cannot starve requests.
 * A proxy that connects meanwhile waits too: it serves nothing until it holds its whole configuration,
 * whereas every proxy of the fan-out serves traffic with stale configuration until its push is out; and
 * when its own registration is the change, its subscriptions are answered once, from the view that
 * includes it. (In the control-plane benchmark, answering a connecting proxy at once left its
 * multi-megabyte initial sync competing with the fan-out its own arrival causes.)
 */

/** A stream with held requests: `release` hands them all to its handler, in arrival order. */
export interface HeldRequests {
  release(): void;
}

export class RequestGate {
  readonly #maxHoldMs: number;
  readonly #fanningOut: () => boolean;
  #shut = false;
  #held: HeldRequests[] = [];
  /** Hands back what has waited `maxHoldMs`, whether or not the gate opened. */
  #timer: NodeJS.Timeout | undefined;
  readonly #timedOut = (): void => {
    // A push that was expected and never came (nothing to push after all) must not keep the gate shut.
    if (!this.#fanningOut()) this.#shut = false;
    this.#releaseAll();
  };
  /** A release scheduled by `open`. */
  #releasing: NodeJS.Immediate | undefined;
  readonly #releaseAll = (): void => {
    clearTimeout(this.#timer);
    clearImmediate(this.#releasing);
    this.#timer = this.#releasing = undefined;
    const held = this.#held;
    if (held.length === 0) return;
    this.#held = [];
    for (const stream of held) stream.release();
  };

  /** `fanningOut`: whether a push is fanning out now (the gate then stays shut when requests time out). */
  constructor(maxHoldMs: number, fanningOut: () => boolean) {
    this.#maxHoldMs = maxHoldMs;
    this.#fanningOut = fanningOut;
  }

  /** Whether requests are held now. */
  get shut(): boolean {
    return this.#shut;
  }

  /** How many streams hold requests now. */
  get holding(): number {
    return this.#held.length;
  }

  /** A push is coming or fanning out: requests are held from now on. */
  shutNow(): void {
    this.#shut = true;
  }

  /** Called by a stream when it holds its first request (it holds later ones on its own until released). */
  hold(stream: HeldRequests): void {
    if (this.#held.length === 0 && this.#timer === undefined) {
      this.#timer = setTimeout(this.#timedOut, this.#maxHoldMs);
      this.#timer.unref();
    }
    this.#held.push(stream);
  }

  /**
   * The fan-out is over: requests are no longer held, and the held ones are handed back at the next
   * event-loop turn, once the fan-out's last writes have gone to the sockets. (A stream that holds keeps
   * holding until then, so its requests stay in order.)
   */
  open(): void {
    this.#shut = false;
    if (this.#held.length > 0 && this.#releasing === undefined) this.#releasing = setImmediate(this.#releaseAll);
  }
}
