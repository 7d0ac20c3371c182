/**
 * Requests waiting for a connection or a stream slot, in FIFO order, for both upstream pools: an array
 * read from a moving head (no shifting per request), compacted when the consumed part dominates.
 * Entries that ended while waiting (`over`: aborted, failed) are skipped when their turn comes.
 */
import type { Dispatcher } from 'undici';

export class WaitQueue<T extends { readonly over: boolean; fail(err: Error): void }> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Entries waiting, including ones that ended and will be skipped. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The first entry still wanted, left in place. */
  peek(): T | undefined {
    const q = this.#items;
    while (this.#head < q.length) {
      const item = q[this.#head]!;
      if (!item.over) return item;
      this.#advance();
    }
    return undefined;
  }

  /** Takes the first entry still wanted. */
  shift(): T | undefined {
    const item = this.peek();
    if (item !== undefined) this.#advance();
    return item;
  }

  /** Fails every entry still waiting with `err` (connect failure, pool destroyed). */
  failAll(err: Error): void {
    for (let item = this.shift(); item !== undefined; item = this.shift()) item.fail(err);
  }

  #advance(): void {
    const q = this.#items;
    q[this.#head++] = undefined;
    if (this.#head === q.length) {
      q.length = 0;
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > q.length) {
      this.#items = q.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** The controller handed with an error to a request refused before it had one. */
export function refusedController(reason: Error): Dispatcher.DispatchController {
  return { aborted: true, paused: false, reason, abort() {}, pause() {}, resume() {} };
}
