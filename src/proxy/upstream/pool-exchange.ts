/**
 * What both upstream pools' exchanges share: the undici dispatch controller the router's handler holds
 * (aborted, paused, reason), the `over` flag the wait queue skips on, and the rules of abort, pause,
 * resume and failure. Each pool says what those mean on its transport (an HTTP/1.1 connection
 * abandoned or paused; an HTTP/2 stream cancelled or paused).
 */
import type { Dispatcher } from 'undici';

export abstract class PoolExchange implements Dispatcher.DispatchController {
  readonly options: Dispatcher.DispatchOptions;
  readonly handler: Dispatcher.DispatchHandler;
  #aborted = false;
  #paused = false;
  #reason: Error | null = null;
  /** Ended: the handler heard its last callback. */
  over = false;

  constructor(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    this.options = options;
    this.handler = handler;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  /** The handler gives up: the transport drops the request, and the handler hears the reason. */
  abort(reason: Error): void {
    if (this.over || this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.cancel(reason);
    this.fail(reason);
  }

  pause(): void {
    if (this.#paused || this.over) return;
    this.#paused = true;
    this.pausedChanged();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.over) this.pausedChanged();
  }

  /** Ends it with an error (connection failure, reset, abort). */
  fail(err: Error): void {
    if (this.over) return;
    this.over = true;
    this.failed();
    this.handler.onResponseError?.(this, err);
  }

  /** Drop the request on the transport (aborted by its handler). */
  protected abstract cancel(reason: Error): void;
  /** The handler paused or resumed the response body: `paused` says which. */
  protected abstract pausedChanged(): void;
  /** Ending with an error: release what the request still holds, before the handler hears it. */
  protected failed(): void {}
}
