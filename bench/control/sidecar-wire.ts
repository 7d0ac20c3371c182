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

export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

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

/** Reads a DiscoveryResponse's head; resources (field 2) and control_plane (field 6) are skipped. */
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

/** Encodes DiscoveryRequests for one benchmark run; subscriptions are shared by every sidecar. */
export class RequestCodec {
  readonly #type = messageType('envoy.service.discovery.v3.DiscoveryRequest');

  #encode(fields: Record<string, unknown>): Buffer {
    const bytes = this.#type.encode(this.#type.fromObject(fields)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The part of every request of a type: `type_url` and `resource_names`. */
  subscription(typeUrl: string, resourceNames: readonly string[]): Buffer {
    return this.#encode({ typeUrl, resourceNames });
  }

  /** The node, sent once: on the stream's first request. */
  node(node: NodeSpec): Buffer {
    return this.#encode({ node: { id: node.id, cluster: node.cluster, metadata: jsToStruct(node.metadata) } });
  }

  /** An ACK's own part: the version accepted and the nonce of the response it answers. */
  ack(versionInfo: string, responseNonce: string): Buffer {
    return this.#encode({ versionInfo, responseNonce });
  }
}
