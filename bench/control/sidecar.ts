/**
 * A simulated sidecar: one ADS stream (state of the world or delta) on an HTTP/2 connection of its own,
 * as every Envoy has, subscribing CDS and LDS (wildcard), RDS, EDS (and with delta, VHDS) by name, and
 * ACKing every response at once with the nonce (and version) it carried. It never decodes resources and
 * never NACKs: it stands for an Envoy that accepts everything, instantly, so what is measured is the
 * control plane. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack
 * When its connection fails or the server ends the stream it reconnects as Envoy does (jittered exponential
 * back-off from 500 ms, at most 30 s) and subscribes afresh, so a reset costs a resync, not the sidecar.
 * It speaks gRPC over `node:http2` directly (5-byte length-prefixed messages, status in the trailers)
 * rather than through grpc-js: a thousand of them share one core in the benchmark, and grpc-js's
 * per-message overhead there would be measured as the control plane's convergence time.
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md
 */
import http2 from 'node:http2';
import { frameMessage, MessageReader } from '../../src/xds/grpc-frames.ts';
import { DELTA_ADS_PATH, SOTW_ADS_PATH } from '../../src/xds/ads-service.ts';
import { readResponseHead, type RequestCodec, type ResponseHead } from './sidecar-wire.ts';

/** Called after the sidecar wrote the ACK of `head`, at `ackedAt` (`performance.now()`). */
export type AckListener = (sidecar: Sidecar, head: ResponseHead, ackedAt: number) => void;

export interface SidecarOptions {
  readonly index: number;
  /** `host:port` of the control plane's xDS server. */
  readonly target: string;
  /** The encoded node (sent on the first request). */
  readonly node: Buffer;
  /** Per type URL, the encoded first request of that type, in subscription order. */
  readonly subscriptions: ReadonlyMap<string, Buffer>;
  /** Per type URL, the part every ACK of that type repeats. */
  readonly ackBases: ReadonlyMap<string, Buffer>;
  readonly codec: RequestCodec;
  readonly onAck: AckListener;
}

/** Envoy's default HTTP/2 windows are large; a small one would make the server wait on the simulator. */
const WINDOW = 16 * 2 ** 20;

/** Envoy's ADS retry back-off: 500 ms doubling to 30 s, each wait drawn uniformly below its ceiling. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;

export class Sidecar {
  readonly index: number;
  /** The version last ACKed, per type URL. */
  readonly acked = new Map<string, string>();
  /** Bytes of every response received. */
  bytesReceived = 0;
  /** Resources received, per type URL (what a sync needs when responses come in parts). */
  readonly resourcesReceived = new Map<string, number>();
  /** The first error that ended a stream (later ones only count). */
  error: Error | undefined;
  /** Streams that ended other than by `close()` (each followed by a reconnect). */
  failures = 0;
  readonly #options: SidecarOptions;
  #session: http2.ClientHttp2Session | undefined;
  #stream: http2.ClientHttp2Stream | undefined;
  #closing = false;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Consecutive failed streams: the back-off's exponent, reset by a response. */
  #attempt = 0;
  #reader = new MessageReader();

  constructor(options: SidecarOptions) {
    this.index = options.index;
    this.#options = options;
  }

  /** Opens the stream and sends one request per subscription, the first carrying the node. */
  start(): void {
    const session = http2.connect(`http://${this.#options.target}`, { settings: { initialWindowSize: WINDOW } });
    session.on('connect', () => session.setLocalWindowSize(WINDOW));
    session.on('error', (e) => this.#fail(e));
    const path = this.#options.codec.protocol === 'delta' ? DELTA_ADS_PATH : SOTW_ADS_PATH;
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('trailers', (trailers) => {
      const status = trailers['grpc-status'];
      if (status !== undefined && status !== '0') this.#fail(new Error(`grpc-status ${String(status)}: ${String(trailers['grpc-message'] ?? '')}`));
    });
    stream.on('error', (e) => this.#fail(e));
    stream.on('close', () => this.#ended(session));
    this.#session = session;
    this.#stream = stream;
    let first = true;
    for (const sub of this.#options.subscriptions.values()) {
      stream.write(frameMessage(first ? Buffer.concat([this.#options.node, sub]) : sub));
      first = false;
    }
  }

  close(): void {
    this.#closing = true;
    clearTimeout(this.#retryTimer);
    this.#stream?.close();
    this.#session?.destroy();
  }

  #fail(e: Error): void {
    if (!this.#closing) this.error ??= e;
  }

  /** The stream is over (error, reset or a status from the server): start again after the back-off. */
  #ended(session: http2.ClientHttp2Session): void {
    if (this.#closing || session !== this.#session) return;
    session.destroy();
    this.failures++;
    this.#session = undefined;
    this.#stream = undefined;
    this.#reader = new MessageReader();
    this.resourcesReceived.clear();
    const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.#attempt++);
    this.#retryTimer = setTimeout(() => this.start(), Math.random() * ceiling);
  }

  #onData(chunk: Buffer): void {
    this.#reader.push(chunk, (_compressed, message) => this.#onMessage(message));
  }

  #onMessage(message: Buffer): void {
    const head = readResponseHead(message);
    this.#attempt = 0;
    this.bytesReceived += head.bytes;
    this.resourcesReceived.set(head.typeUrl, (this.resourcesReceived.get(head.typeUrl) ?? 0) + head.resources);
    const base = this.#options.ackBases.get(head.typeUrl);
    if (base === undefined) return;
    this.#stream?.write(frameMessage(Buffer.concat([base, this.#options.codec.ack(head.versionInfo, head.nonce)])));
    this.acked.set(head.typeUrl, head.versionInfo);
    this.#options.onAck(this, head, performance.now());
  }
}
