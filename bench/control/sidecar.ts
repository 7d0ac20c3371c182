/**
 * A simulated sidecar: one state-of-the-world ADS stream on a gRPC channel of its own (its own HTTP/2
 * connection, as every Envoy has), subscribing CDS and LDS (wildcard), RDS and EDS (named), and ACKing
 * every response at once with the version and nonce it carried. It never decodes resources and never
 * NACKs: it stands for an Envoy that accepts everything, instantly, so what is measured is the control
 * plane. https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack
 */
import * as grpc from '@grpc/grpc-js';
import { ADS_METHOD, readResponseHead, type RequestCodec, type ResponseHead } from './sidecar-wire.ts';

/** Called after the sidecar wrote the ACK of `head`, at `ackedAt` (`performance.now()`). */
export type AckListener = (sidecar: Sidecar, head: ResponseHead, ackedAt: number) => void;

export interface SidecarOptions {
  readonly index: number;
  /** `host:port` of the control plane's xDS server. */
  readonly target: string;
  /** The encoded node (sent on the first request). */
  readonly node: Buffer;
  /** Per type URL, the encoded subscription every request of that type repeats, in subscription order. */
  readonly subscriptions: ReadonlyMap<string, Buffer>;
  readonly codec: RequestCodec;
  readonly onAck: AckListener;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // A pool per channel: without it grpc-js would multiplex every sidecar over one shared connection.
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': -1,
};

const passBuffer = (b: Buffer): Buffer => b;

export class Sidecar {
  readonly index: number;
  /** The version last ACKed, per type URL. */
  readonly acked = new Map<string, string>();
  /** Bytes of every response received. */
  bytesReceived = 0;
  error: grpc.ServiceError | undefined;
  readonly #options: SidecarOptions;
  readonly #client: grpc.Client;
  #call: grpc.ClientDuplexStream<Buffer, ResponseHead> | undefined;
  #closing = false;

  constructor(options: SidecarOptions) {
    this.index = options.index;
    this.#options = options;
    this.#client = new grpc.Client(options.target, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  /** Opens the stream and sends one request per subscription, the first carrying the node. */
  start(): void {
    const call = this.#client.makeBidiStreamRequest(ADS_METHOD, passBuffer, readResponseHead);
    this.#call = call;
    call.on('data', (head: ResponseHead) => this.#onResponse(call, head));
    call.on('error', (e: grpc.ServiceError) => {
      if (!this.#closing) this.error = e;
    });
    let first = true;
    for (const sub of this.#options.subscriptions.values()) {
      call.write(first ? Buffer.concat([this.#options.node, sub]) : sub);
      first = false;
    }
  }

  close(): void {
    this.#closing = true;
    this.#call?.cancel();
    this.#client.close();
  }

  #onResponse(call: grpc.ClientDuplexStream<Buffer, ResponseHead>, head: ResponseHead): void {
    this.bytesReceived += head.bytes;
    const sub = this.#options.subscriptions.get(head.typeUrl);
    if (sub === undefined) return;
    call.write(Buffer.concat([sub, this.#options.codec.ack(head.versionInfo, head.nonce)]));
    this.acked.set(head.typeUrl, head.versionInfo);
    this.#options.onAck(this, head, performance.now());
  }
}
