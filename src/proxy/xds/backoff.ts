/**
 * Reconnect delays for the ADS stream: exponential growth from `initialMs` by `multiplier`, capped at
 * `maxMs`, each delay jittered by ±`jitter` so proxies that lost the control plane together do not
 * return in lockstep. gRPC's connection-backoff rules, with Envoy's xDS defaults (500 ms base, 30 s cap):
 * https://github.com/grpc/grpc/blob/master/doc/connection-backoff.md
 */

export interface BackoffOptions {
  /** First delay (ms, default 500). */
  readonly initialMs?: number;
  /** Largest delay before jitter (ms, default 30,000). */
  readonly maxMs?: number;
  /** Growth per attempt (default 2). */
  readonly multiplier?: number;
  /** Relative spread of each delay, 0..1 (default 0.2: ±20%). */
  readonly jitter?: number;
  /** Source of randomness in [0, 1) (tests pass a fixed one). */
  readonly random?: () => number;
}

export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #multiplier: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #current: number;
  #attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = Math.max(0, options.initialMs ?? 500);
    this.#max = Math.max(this.#initial, options.maxMs ?? 30_000);
    this.#multiplier = Math.max(1, options.multiplier ?? 2);
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
    this.#random = options.random ?? Math.random;
    this.#current = this.#initial;
  }

  /** The delay before the next attempt; each call grows the next one. */
  next(): number {
    const base = this.#current;
    this.#current = Math.min(this.#max, this.#current * this.#multiplier);
    this.#attempts++;
    const spread = base * this.#jitter;
    return Math.max(0, Math.round(base - spread + this.#random() * 2 * spread));
  }

  /** Attempts since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** Back to the first delay (after a stream proved healthy by delivering a response). */
  reset(): void {
    this.#current = this.#initial;
    this.#attempts = 0;
  }
}
