/**
 * A listener manager over real loopback sockets with fake clusters, fed the way the xDS client feeds
 * it: each Listener is encoded and decoded with the real protos (so proto3 defaults are omitted as on
 * the wire), validated, then applied as the complete LDS set.
 */
import assert from 'node:assert/strict';
import type { NetworkFilterFactory, Proto } from '../../src/proxy/core/contracts.ts';
import { Stats } from '../../src/proxy/core/stats.ts';
import { ListenerManager } from '../../src/proxy/listener/index.ts';
import type { ListenerManagerOptions } from '../../src/proxy/listener/index.ts';
import { NetworkFilterRegistry, registerBuiltins } from '../../src/proxy/network/index.ts';
import type { NetworkBuiltinsOptions } from '../../src/proxy/network/index.ts';
import { decodeResource, encodeResource } from '../../src/xds/protos.ts';
import { TYPE } from '../../src/xds/type-urls.ts';
import { FakeClusters, fakeRoutes, noSubscriptions } from './fake-clusters.ts';

export const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
export const TLS_INSPECTOR = { name: 'envoy.filters.listener.tls_inspector', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } };
export const HTTP_INSPECTOR = { name: 'envoy.filters.listener.http_inspector', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector' } };
export const ORIGINAL_DST = { name: 'envoy.filters.listener.original_dst', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' } };

export function tcpProxy(cluster: string, statPrefix = cluster, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_PROXY, statPrefix, cluster, ...extra } };
}

/** A listener on 127.0.0.1, port 0 unless given, with `statPrefix` = its name. */
export function listener(name: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { name, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, statPrefix: name, ...fields };
}

export interface HarnessOptions extends Partial<Omit<ListenerManagerOptions, 'networkFilters' | 'clusters' | 'routes' | 'stats' | 'subscriptions'>> {
  readonly network?: NetworkBuiltinsOptions;
  /** Network filters registered beside the built-ins (as the wiring registers the HTTP connection manager). */
  readonly extraFilters?: readonly NetworkFilterFactory[];
}

export class ListenerHarness {
  readonly stats = new Stats();
  readonly clusters = new FakeClusters(this.stats);
  readonly routes = fakeRoutes();
  readonly manager: ListenerManager;

  constructor(options: HarnessOptions = {}) {
    const { network, extraFilters = [], ...rest } = options;
    const networkFilters = registerBuiltins(new NetworkFilterRegistry(), network);
    for (const f of extraFilters) networkFilters.register(f);
    this.manager = new ListenerManager({
      networkFilters,
      clusters: this.clusters,
      routes: this.routes,
      stats: this.stats,
      subscriptions: noSubscriptions,
      log: () => {},
      ...rest,
    });
  }

  /** Decodes as from the wire, validates (none may fail), applies the complete set, awaits binds. */
  async apply(...listeners: Record<string, unknown>[]): Promise<void> {
    const resources = new Map<string, Proto>();
    for (const l of listeners) {
      const decoded = decodeResource(TYPE.listener, encodeResource(TYPE.listener, l));
      assert.deepEqual(this.manager.validate(String(l['name']), decoded), [], `listener ${String(l['name'])} is valid`);
      resources.set(String(l['name']), decoded);
    }
    this.manager.apply(resources, [], true);
    await this.manager.settled();
  }

  port(name: string): number {
    const status = this.manager.status(name);
    assert.ok(status !== undefined && status.state === 'active', `listener ${name} is active (${JSON.stringify(status)})`);
    return status.port;
  }

  /** A counter or gauge by full name (0 when never touched). */
  stat(name: string): number {
    return this.stats.entries().find((e) => e.name === name)?.value ?? 0;
  }

  close(): Promise<void> {
    return this.manager.close();
  }
}

/** A harness closed when the test ends, whether it passed or not. */
export function harness(t: { after(fn: () => Promise<void>): void }, options: HarnessOptions = {}): ListenerHarness {
  const h = new ListenerHarness(options);
  t.after(() => h.close());
  return h;
}

/** Resolves once `condition()` holds, checking after each turn of the event loop. */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
