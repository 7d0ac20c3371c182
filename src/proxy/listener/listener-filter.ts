/**
 * Listener filters: what runs on an accepted socket before a filter chain is chosen (TLS and HTTP
 * inspectors, original destination). The contract, the registry keyed by typed-config type, and the
 * `filter_disabled` predicate. Node cannot peek at a socket (no MSG_PEEK), so inspectors read: the
 * bytes they read are handed to the network filter as `ConnectionInfo.preread` to replay.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-listenerfilter
 */
import type { Socket } from 'node:net';
import type { Proto } from '../core/contracts.ts';
import type { Stats } from '../core/stats.ts';
import { integer, message, messages, problem, typeName } from '../network/proto-read.ts';
import type { Problems } from '../network/proto-read.ts';

/** What the listener filters learn about a connection; filters write to it, chain matching reads it. */
export interface InspectState {
  /** Lower-case SNI, or ''. */
  serverName: string;
  alpn: readonly string[];
  transport: 'raw_buffer' | 'tls';
  /** The destination: the socket's local address, or the original destination once restored. */
  localAddress: string;
  localPort: number;
  /** The original_dst filter restored the destination (enables `use_original_dst` hand-off). */
  restored: boolean;
}

/** `continue` to the next filter, `need-data` to be called again with more bytes, `close` to drop the connection. */
export type InspectResult = 'continue' | 'need-data' | 'close';

/**
 * One listener filter instance, built once per listener version and shared by its connections.
 * `inspect` is called at accept with no data (an empty buffer), then, while it answers `need-data`,
 * again with everything read so far. It must decide before `maxReadBytes` bytes (or answer `close`).
 */
export interface ListenerFilter {
  readonly maxReadBytes: number;
  inspect(state: InspectState, data: Buffer, socket: Socket): InspectResult;
}

export interface ListenerFilterFactory {
  readonly typeUrl: string;
  /** Problems in the typed config, paths relative to it (`typedConfig.x`). */
  validate(config: Proto): string[];
  /** Counters live under the filter's own root (`tls_inspector.*`), as in Envoy. */
  create(config: Proto, stats: Stats): ListenerFilter;
}

export type ListenerErrorCode = 'LISTENER_FILTER_DUPLICATE';

/** A wiring mistake (never on the data path). */
export class ListenerError extends Error {
  readonly code: ListenerErrorCode;
  constructor(code: ListenerErrorCode, message: string) {
    super(message);
    this.name = 'ListenerError';
    this.code = code;
  }
}

export class ListenerFilterRegistry {
  readonly #factories = new Map<string, ListenerFilterFactory>();

  register(factory: ListenerFilterFactory): void {
    const key = typeName(factory.typeUrl);
    if (this.#factories.has(key)) throw new ListenerError('LISTENER_FILTER_DUPLICATE', `a listener filter for ${key} is already registered`);
    this.#factories.set(key, factory);
  }

  get(typeUrl: string): ListenerFilterFactory | undefined {
    return this.#factories.get(typeName(typeUrl));
  }
}

/** `filter_disabled`: true when the filter must be skipped for a connection to `port`. */
export type DisabledPredicate = (port: number) => boolean;

/** Compiles a `ListenerFilterChainMatchPredicate`. */
export function compilePredicate(p: Proto, path: string, problems: Problems): DisabledPredicate {
  const set = (field: string): DisabledPredicate[] | undefined => {
    const m = message(p, field, path, problems);
    if (m === undefined) return undefined;
    const rules = messages(m, 'rules', `${path}.${field}`, problems);
    if (rules.length < 2) problem(problems, `${path}.${field}.rules`, 'at least two rules are required', rules.length);
    return rules.map((r, i) => compilePredicate(r, `${path}.${field}.rules[${i}]`, problems));
  };
  const or = set('orMatch');
  if (or !== undefined) return (port) => or.some((f) => f(port));
  const and = set('andMatch');
  if (and !== undefined) return (port) => and.every((f) => f(port));
  const not = message(p, 'notMatch', path, problems);
  if (not !== undefined) {
    const inner = compilePredicate(not, `${path}.notMatch`, problems);
    return (port) => !inner(port);
  }
  if (p['anyMatch'] === true) return () => true;
  const range = message(p, 'destinationPortRange', path, problems);
  if (range !== undefined) {
    const start = integer(range, 'start', `${path}.destinationPortRange`, problems);
    const end = integer(range, 'end', `${path}.destinationPortRange`, problems);
    if (end < start) problem(problems, `${path}.destinationPortRange`, 'end must not be below start', range);
    return (port) => port >= start && port < end; // [start, end), as Envoy's Int32Range
  }
  problem(problems, path, 'one of orMatch, andMatch, notMatch, anyMatch or destinationPortRange is required');
  return () => false;
}
