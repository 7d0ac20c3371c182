/**
 * One TCP proxy connection: pick a cluster (weighted), pick a host and connect (up to
 * `max_connect_attempts`, avoiding hosts that failed), replay the bytes the listener filters read,
 * then pipe both ways with backpressure (`pipe` pauses the faster side) and half-close (a FIN from one
 * side ends the other side's write direction; sockets are half-open capable). Timers: idle (no bytes
 * either way; one socket timeout on the downstream suffices because every byte is read from or written
 * to it) and max connection duration. Nothing throws: every failure closes the downstream, bumps a
 * counter and records Envoy's response flag for the session-end diagnostics event (TCP has no reply to
 * carry an error). https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/tcp_proxy_filter
 */
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { ClusterHandle, ClusterManager, ConnectionInfo, PickContext, UpstreamHost } from '../../core/contracts.ts';
import type { Counter, Gauge } from '../../core/stats.ts';
import { pickCluster } from './config.ts';
import type { TcpProxyConfig } from './config.ts';
import { addressString } from '../../core/address.ts';

/** `tcp.<stat_prefix>.*`, looked up once per filter. */
export interface TcpProxyStats {
  readonly downstreamCxTotal: Counter;
  readonly noRoute: Counter;
  readonly idleTimeout: Counter;
  readonly maxDuration: Counter;
  readonly rxBytes: Counter;
  readonly txBytes: Counter;
  readonly flushTotal: Counter;
  readonly flushActive: Gauge;
}

/** Published on `weft:proxy:tcp:session` when a session ends (access logs subscribe later). */
export interface TcpSessionEnd {
  readonly statPrefix: string;
  readonly cluster: string;
  /** `ip:port` of the upstream host, when one was picked. */
  readonly upstream: string | undefined;
  readonly downstream: string;
  /** Envoy response flags, comma-separated (`UF,URX`), or `-`. */
  readonly flags: string;
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly durationMs: number;
}

export const sessionChannel = diagnostics.channel('weft:proxy:tcp:session');

const noop = (): void => {};

/** FNV-1a over a string: a stable 32-bit hash of the source IP for hash-based load balancers. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class TcpProxySession {
  readonly #info: ConnectionInfo;
  readonly #down: Socket;
  readonly #config: TcpProxyConfig;
  readonly #stats: TcpProxyStats;
  readonly #cluster: string;
  readonly #start = performance.now();
  #up: Socket | undefined;
  #host: UpstreamHost | undefined;
  #exclude: Set<UpstreamHost> | undefined;
  #flags = '';
  #downClosed = false;
  #upClosed = false;
  /** We closed the downstream ourselves (failure, timeout): its close is not the client's doing (DC). */
  #localClose = false;
  #ended = false;
  #flushing = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(info: ConnectionInfo, config: TcpProxyConfig, stats: TcpProxyStats, random: () => number) {
    this.#info = info;
    this.#down = info.socket;
    this.#config = config;
    this.#stats = stats;
    this.#cluster = pickCluster(config, random);
  }

  start(clusters: ClusterManager): void {
    this.#stats.downstreamCxTotal.value++;
    this.#down.on('error', noop);
    this.#down.once('close', () => this.#onDownClose());
    if (this.#config.maxDurationMs > 0) this.#timer = setTimeout(() => this.#onMaxDuration(), this.#config.maxDurationMs);
    const handle = clusters.cluster(this.#cluster);
    if (handle === undefined) {
      this.#stats.noRoute.value++;
      this.#fail('NC');
      return;
    }
    this.#attempt(handle, 1);
  }

  #pickContext(): PickContext {
    const info = this.#info;
    return {
      originalDestination: addressString(info.localAddress, info.localPort),
      ...(this.#config.hashSourceIp ? { hash: fnv1a(info.remoteAddress) } : {}),
      ...(this.#exclude !== undefined ? { exclude: this.#exclude } : {}),
    };
  }

  #attempt(handle: ClusterHandle, attempt: number): void {
    const ctx = this.#pickContext();
    // Retries avoid hosts that failed, but a cluster whose every host failed still gets another try.
    const host = handle.pick(ctx) ?? (ctx.exclude !== undefined ? handle.pick({ ...ctx, exclude: new Set() }) : undefined);
    if (host === undefined) {
      handle.counter('upstream_cx_none_healthy').value++;
      this.#fail('UH');
      return;
    }
    this.#host = host;
    handle.connect(host).then(
      (up) => this.#onConnected(up),
      () => this.#onConnectFailed(handle, host, attempt),
    ).catch(() => this.#closeBoth()); // a throwing cluster implementation must not reach the event loop
  }

  #onConnectFailed(handle: ClusterHandle, host: UpstreamHost, attempt: number): void {
    if (this.#downClosed) return;
    this.#flag('UF');
    if (attempt < this.#config.maxConnectAttempts) {
      (this.#exclude ??= new Set()).add(host);
      this.#attempt(handle, attempt + 1);
      return;
    }
    handle.counter('upstream_cx_connect_attempts_exceeded').value++;
    this.#fail('URX');
  }

  #onConnected(up: Socket): void {
    if (this.#downClosed) {
      up.destroy();
      return;
    }
    this.#up = up;
    // The upstream may FIN first while the client keeps sending: keep our write side open.
    up.allowHalfOpen = true;
    up.on('error', () => this.#flag('UC'));
    up.once('close', () => this.#onUpClose());
    const preread = this.#info.preread;
    if (preread !== undefined && preread.length > 0) up.write(preread);
    this.#down.pipe(up);
    up.pipe(this.#down);
    if (this.#config.idleTimeoutMs > 0) {
      this.#down.setTimeout(this.#config.idleTimeoutMs);
      this.#down.once('timeout', () => this.#onIdle());
    }
  }

  #onDownClose(): void {
    this.#downClosed = true;
    const up = this.#up;
    if (up === undefined) {
      if (!this.#localClose) this.#flag('DC');
      this.#end();
      return;
    }
    if (!this.#upClosed && !up.destroyed && up.writableLength > 0) {
      // Envoy keeps flushing what the client sent before it went away (upstream_flush_*).
      this.#flushing = true;
      this.#stats.flushTotal.value++;
      this.#stats.flushActive.value++;
      up.end();
      return;
    }
    if (this.#upClosed) this.#end();
    else up.destroy(); // its close ends the session
  }

  #onUpClose(): void {
    this.#upClosed = true;
    if (this.#flushing) this.#stats.flushActive.value--;
    const down = this.#down;
    if (!this.#downClosed) {
      // The upstream is gone both ways: flush what is queued to the client, then close it.
      if (down.writableFinished || down.destroyed) down.destroy();
      else {
        down.end();
        down.once('finish', () => down.destroy());
      }
      return;
    }
    this.#end();
  }

  #onIdle(): void {
    this.#stats.idleTimeout.value++;
    this.#closeBoth();
  }

  #onMaxDuration(): void {
    this.#stats.maxDuration.value++;
    this.#flag('DT');
    this.#closeBoth();
  }

  #closeBoth(): void {
    this.#localClose = true;
    this.#up?.destroy();
    this.#down.destroy();
  }

  #flag(flag: string): void {
    if (this.#flags.split(',').includes(flag)) return;
    this.#flags = this.#flags === '' ? flag : `${this.#flags},${flag}`;
  }

  #fail(flag: string): void {
    this.#flag(flag);
    this.#localClose = true;
    this.#down.destroy();
  }

  /** Once both sides are closed (or the downstream closed before an upstream existed). */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const down = this.#down;
    this.#stats.rxBytes.value += down.bytesRead;
    this.#stats.txBytes.value += down.bytesWritten;
    if (!sessionChannel.hasSubscribers) return;
    const info = this.#info;
    const event: TcpSessionEnd = {
      statPrefix: this.#config.statPrefix,
      cluster: this.#cluster,
      upstream: this.#host === undefined ? undefined : addressString(this.#host.address, this.#host.port),
      downstream: addressString(info.remoteAddress, info.remotePort),
      flags: this.#flags === '' ? '-' : this.#flags,
      rxBytes: down.bytesRead,
      txBytes: down.bytesWritten,
      durationMs: performance.now() - this.#start,
    };
    sessionChannel.publish(event);
  }
}
