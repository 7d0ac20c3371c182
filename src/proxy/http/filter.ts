/**
 * HTTP filters: the contract between the connection manager and each filter, and the registry of filter
 * factories keyed by config type URL (Envoy's `envoy.filters.http.*` extensions). A factory parses its
 * config once per HCM config (and each per-route override once per route config), then makes a filter
 * per stream. The lifecycle is small and fixed, like fastify's hooks:
 *
 *   decodeHeaders (in chain order) → [decodeData…] → the terminal filter (router) produces the response
 *   → encodeHeaders (reverse order) → [encodeData…] → onDestroy
 *
 * A decode hook returns nothing to continue, `STOP` when it answered the request (sendLocalReply) or took
 * it over, or a promise to pause the chain (the fault filter's delay). Errors thrown by a hook become a
 * 500 local reply: the data path never throws into the event loop.
 */
import type { Proto } from '../core/contracts.ts';
import type { Stats } from '../core/stats.ts';
import type { FilterStream, ResponseHead } from './filter-stream.ts';

export const STOP = 'stop';
export type DecodeResult = void | typeof STOP | Promise<void | typeof STOP>;

/** One filter instance, made per stream (or shared when it keeps no per-stream state). */
export interface HttpFilter {
  decodeHeaders?(stream: FilterStream): DecodeResult;
  /** Response headers on their way downstream (upstream or local reply); may edit `head.headers`. */
  encodeHeaders?(stream: FilterStream, head: ResponseHead): void;
  /** The stream ended (complete, reset or replied locally); release timers. */
  onDestroy?(stream: FilterStream): void;
}

/** What a factory gets when its filter is configured in an HCM. */
export interface FilterContext {
  /** The filter's name in the HCM (`envoy.filters.http.cors`): per-route configs are keyed by it. */
  readonly name: string;
  /** `http.<stat_prefix>.` */
  readonly statPrefix: string;
  readonly stats: Stats;
}

export interface Parsed<T> {
  readonly config: T;
  /** `field.path: problem` strings; non-empty means the config is rejected. */
  readonly problems: readonly string[];
}

/** Builds one kind of HTTP filter. `C` is its parsed HCM-level config, `R` its parsed per-route config. */
export interface HttpFilterFactory<C = unknown, R = unknown> {
  /** The `typed_config` type URL this factory accepts in `http_filters`. */
  readonly typeUrl: string;
  /** Type URLs accepted in `typed_per_filter_config` (CorsPolicy for CORS, HTTPFault for fault). */
  readonly perRouteTypeUrls?: readonly string[];
  /** The router: must be last, and the chain must end with one. */
  readonly terminal?: boolean;
  parse(config: Proto, path: string): Parsed<C>;
  parsePerRoute?(config: Proto, path: string): Parsed<R>;
  /** Called once per HCM config; the returned function makes the per-stream filter. */
  prepare(config: C, ctx: FilterContext): () => HttpFilter;
}

/** A factory of any config type (methods are bivariant, so every `HttpFilterFactory<C, R>` fits). */
export type AnyFilterFactory = HttpFilterFactory<unknown, unknown>;

/**
 * Filter factories by type URL. Built-ins are added by `registerBuiltins()` (index.ts), never by import
 * side effects, so tests can make registries with exactly the filters they want.
 */
export class HttpFilterRegistry {
  readonly #byType = new Map<string, AnyFilterFactory>();
  readonly #byPerRouteType = new Map<string, AnyFilterFactory>();

  register(factory: AnyFilterFactory): this {
    this.#byType.set(factory.typeUrl, factory);
    for (const t of factory.perRouteTypeUrls ?? []) this.#byPerRouteType.set(t, factory);
    return this;
  }

  get(typeUrl: string): AnyFilterFactory | undefined {
    return this.#byType.get(typeUrl);
  }

  /** The factory that parses a per-route config of this type URL. */
  forPerRoute(typeUrl: string): AnyFilterFactory | undefined {
    return this.#byPerRouteType.get(typeUrl);
  }
}
