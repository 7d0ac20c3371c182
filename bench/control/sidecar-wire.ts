/**
 * The simulated sidecar's side of the ADS wire. Responses are read only as far as a sidecar needs to
 * ACK them — `version_info`, `type_url`, `nonce` and how many resources they carry — with protobufjs's
 * `Reader`, skipping the resources' bytes, so a thousand simulated proxies cost the benchmark little.
 * Requests are encoded with the real `DiscoveryRequest` message type; the parts every ACK of a type
 * repeats (type URL and resource names) are encoded once and concatenated with the per-ACK part, which
 * protobuf defines as merging the two messages.
 * https://protobuf.dev/programming-guides/encoding/#last-one-wins
 * Field numbers: envoy/service/discovery/v3/discovery.proto.
 */
import protobuf from 'protobufjs';
import { jsToStruct, messageType } from '../../src/xds/protos.ts';


/** State of the world (every response holds the full set) or incremental (only what changed). */
export type AdsProtocol = 'sotw' | 'delta';

/** What a sidecar reads of a DiscoveryResponse. */
export interface ResponseHead {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: number;
  /** Size of the whole message on the wire (without gRPC framing). */
  readonly bytes: number;
}

const WIRE_LENGTH_DELIMITED = 2;

/**
 * Reads a DiscoveryResponse's or DeltaDiscoveryResponse's head: both keep the version (`version_info`,
 * `system_version_info`) in field 1, resources in 2, type_url in 4 and the nonce in 5; the rest is skipped.
 */
export function readResponseHead(buf: Buffer): ResponseHead {
  const r = protobuf.Reader.create(buf);
  let versionInfo = '';
  let typeUrl = '';
  let nonce = '';
  let resources = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1) versionInfo = r.string();
    else if (field === 4) typeUrl = r.string();
    else if (field === 5) nonce = r.string();
    else {
      if (field === 2 && (tag & 7) === WIRE_LENGTH_DELIMITED) resources++;
      r.skipType(tag & 7);
    }
  }
  return { versionInfo, typeUrl, nonce, resources, bytes: buf.length };
}

export interface NodeSpec {
  readonly id: string;
  readonly cluster: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * Encodes requests for one benchmark run (DiscoveryRequest or DeltaDiscoveryRequest); subscriptions are
 * shared by every sidecar.
 */
export class RequestCodec {
  readonly protocol: AdsProtocol;
  readonly #type;

  constructor(protocol: AdsProtocol) {
    this.protocol = protocol;
    this.#type = messageType(protocol === 'delta' ? 'envoy.service.discovery.v3.DeltaDiscoveryRequest' : 'envoy.service.discovery.v3.DiscoveryRequest');
  }

  #encode(fields: Record<string, unknown>): Buffer {
    const bytes = this.#type.encode(this.#type.fromObject(fields)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * State of the world: the part of every request of a type (`type_url` and `resource_names`).
   * Delta: the type's first request (`type_url` and `resource_names_subscribe`; none for a legacy wildcard).
   */
  subscription(typeUrl: string, resourceNames: readonly string[]): Buffer {
    return this.protocol === 'delta' ? this.#encode({ typeUrl, resourceNamesSubscribe: resourceNames }) : this.#encode({ typeUrl, resourceNames });
  }

  /** What every ACK of a type repeats: the whole subscription (SotW), only the type URL (delta). */
  ackBase(typeUrl: string, resourceNames: readonly string[]): Buffer {
    return this.protocol === 'delta' ? this.#encode({ typeUrl }) : this.subscription(typeUrl, resourceNames);
  }

  /** The node, sent once: on the stream's first request. */
  node(node: NodeSpec): Buffer {
    return this.#encode({ node: { id: node.id, cluster: node.cluster, metadata: jsToStruct(node.metadata) } });
  }

  /** An ACK's own part: the nonce of the response it answers (and, for SotW, the version accepted). */
  ack(versionInfo: string, responseNonce: string): Buffer {
    return this.protocol === 'delta' ? this.#encode({ responseNonce }) : this.#encode({ versionInfo, responseNonce });
  }
}
