/**
 * ORIGINAL_DST hosts: made on demand from the destination the request or connection asked for
 * (`PickContext.originalDestination`: the downstream connection's original destination, or the
 * `x-envoy-original-dst-host` header value the router passes when `use_http_header` is set), and
 * removed, pools closed, once unused for a whole `cleanup_interval` (5 s default), as Envoy does.
 * Envoy accepts only `ip:port`; weft also accepts `name:port` and lets the pool resolve the name,
 * because in local mode the HTTP proxy listener forwards absolute-form requests to arbitrary hosts.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/original_dst
 */
import { isIP } from 'node:net';
import type { OriginalDstOptions } from './cluster-config.ts';
import { addressString, HostImpl, HostState } from './host.ts';

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

/** `ip:port`, `[ip6]:port` or `name:port` → parts; undefined when malformed. `defaultPort` fills a missing port. */
export function parseDestination(value: string, defaultPort?: number): { address: string; port: number } | undefined {
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    host = value.slice(1, end);
    const rest = value.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return undefined;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0 && value.indexOf(':') !== colon) return undefined; // bare IPv6 needs brackets
    host = colon < 0 ? value : value.slice(0, colon);
    portText = colon < 0 ? undefined : value.slice(colon + 1);
    if (isIP(host) === 0 && !HOSTNAME.test(host)) return undefined;
  }
  const port = portText === undefined ? defaultPort : /^\d{1,5}$/.test(portText) ? Number(portText) : undefined;
  if (port === undefined || port < 1 || port > 65535) return undefined;
  return { address: host, port };
}

export class OriginalDstHosts {
  readonly #options: OriginalDstOptions;
  readonly #states: Map<string, HostState>;
  readonly #onRemove: (state: HostState) => void;
  readonly #hosts = new Map<string, HostImpl>();
  #timer: NodeJS.Timeout | undefined;

  /** `states` is the cluster's state map; states already in it (inherited from the cluster's previous version) become hosts. */
  constructor(options: OriginalDstOptions, states: Map<string, HostState>, onRemove: (state: HostState) => void) {
    this.#options = options;
    this.#states = states;
    this.#onRemove = onRemove;
    for (const [key, state] of states) {
      if (!state.closed) this.#hosts.set(key, this.#hostFor(state));
    }
    if (this.#hosts.size > 0) this.#schedule();
  }

  #hostFor(state: HostState): HostImpl {
    const address = state.dialAddress;
    const hostname = isIP(address) === 0 ? address : '';
    const none = { region: '', zone: '', subZone: '' };
    return new HostImpl({ address, port: state.port, weight: 1, health: 'HEALTHY', hostname, priority: 0, locality: none, localityKey: '' }, state);
  }

  get size(): number {
    return this.#hosts.size;
  }

  hosts(): HostImpl[] {
    return [...this.#hosts.values()];
  }

  /** The host for a destination; undefined when absent or malformed. */
  pick(destination: string | undefined): HostImpl | undefined {
    if (destination === undefined || destination === '') return undefined;
    const override = this.#options.portOverride;
    const parsed = parseDestination(destination, override);
    if (parsed === undefined) return undefined;
    const port = override ?? parsed.port;
    const key = addressString(parsed.address, port);
    let host = this.#hosts.get(key);
    if (host === undefined || host.state.closed) {
      let state = this.#states.get(key);
      if (state === undefined || state.closed) state = new HostState(key, parsed.address, port);
      this.#states.set(key, state);
      host = this.#hostFor(state);
      this.#hosts.set(key, host);
      this.#schedule();
    }
    host.state.used = true;
    return host;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.sweep(), this.#options.cleanupIntervalMs);
    this.#timer.unref();
  }

  /** Removes hosts unused since the previous sweep and without requests in flight. */
  sweep(): void {
    for (const [key, host] of this.#hosts) {
      const s = host.state;
      if (!s.used && s.counters.rqActive === 0) {
        this.#hosts.delete(key);
        this.#states.delete(key);
        this.#onRemove(s);
        continue;
      }
      s.used = false;
    }
    if (this.#hosts.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
