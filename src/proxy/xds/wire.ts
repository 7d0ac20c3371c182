/**
 * The ADS wire, client side: a hand-built gRPC definition of `AggregatedDiscoveryService` whose
 * requests are plain objects (encoded with the real protos) and whose responses are decoded into small
 * typed shapes that keep each resource as the bytes it came in (no `Any` expansion): the client compares
 * bytes with what it holds and decodes only resources that changed. Also the node's wire shape.
 * Field numbers: envoy/service/discovery/v3/discovery.proto.
 */

import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';
import { messageType } from '../../xds/protos.ts';
import { DELTA_ADS_PATH, SOTW_ADS_PATH } from '../../xds/ads-service.ts';
import type { StructObject } from '../../xds/protos.ts';


/** `envoy.config.core.v3.Node` as a plain object ready for encoding (metadata already a Struct). */
export interface NodeProto {
  readonly id: string;
  readonly cluster: string;
  readonly metadata: StructObject;
  readonly locality?: { readonly region?: string; readonly zone?: string; readonly subZone?: string };
  readonly userAgentName: string;
  readonly userAgentVersion: string;
  readonly clientFeatures: readonly string[];
}

export interface ErrorDetail {
  /** A google.rpc.Code; the client uses INVALID_ARGUMENT (3) for rejected config. */
  readonly code: number;
  readonly message: string;
}

/** A `DiscoveryRequest` (state of the world). */
export interface SotwRequest {
  readonly node?: NodeProto;
  readonly versionInfo: string;
  readonly resourceNames: readonly string[];
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly errorDetail?: ErrorDetail;
}

/** A `DeltaDiscoveryRequest` (incremental). */
export interface DeltaRequest {
  readonly node?: NodeProto;
  readonly typeUrl: string;
  readonly resourceNamesSubscribe?: readonly string[];
  readonly resourceNamesUnsubscribe?: readonly string[];
  readonly initialResourceVersions?: Readonly<Record<string, string>>;
  readonly responseNonce?: string;
  readonly errorDetail?: ErrorDetail;
}

/** One resource of a response, still encoded. */
export interface WireResource {
  /** The `Any`'s type URL (must equal the response's). */
  readonly typeUrl: string;
  /** Delta only: `Resource.name` and `Resource.version`. */
  readonly name?: string;
  readonly version?: string;
  /** The serialized resource message. Shares memory with the response: copy before keeping it. */
  readonly body: Uint8Array;
}

export interface SotwResponse {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: readonly WireResource[];
}

export interface DeltaResponse {
  readonly systemVersionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: readonly WireResource[];
  readonly removed: readonly string[];
}

type Decoded = Record<string, any>; // a protobufjs message: unset fields read as defaults from the prototype

/** protobufjs defines `google.protobuf.Any` itself, with the proto's snake_case field names. */
const anyTypeUrl = (any: Decoded): string => String(any.type_url ?? any.typeUrl);

interface WireTypes {
  readonly sotwReq: Type;
  readonly sotwRes: Type;
  readonly deltaReq: Type;
  readonly deltaRes: Type;
}

let wire: WireTypes | undefined;
function types(): WireTypes {
  return (wire ??= {
    sotwReq: messageType('envoy.service.discovery.v3.DiscoveryRequest'),
    sotwRes: messageType('envoy.service.discovery.v3.DiscoveryResponse'),
    deltaReq: messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
    deltaRes: messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
  });
}

function encode(type: Type, obj: object): Buffer {
  return Buffer.from(type.encode(type.fromObject(obj as Record<string, unknown>)).finish());
}

export function decodeSotwResponse(buf: Uint8Array): SotwResponse {
  const m = types().sotwRes.decode(buf) as Decoded;
  const typeUrl = String(m.typeUrl);
  return {
    versionInfo: String(m.versionInfo),
    typeUrl,
    nonce: String(m.nonce),
    resources: (m.resources as Decoded[]).map((any) => ({ typeUrl: anyTypeUrl(any), body: any.value as Uint8Array })),
  };
}

/**
 * Delta `Resource` entries without a body are TTL heartbeats (the resource is unchanged and still
 * valid); they carry nothing to apply and are left out.
 * https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ttl
 */
export function decodeDeltaResponse(buf: Uint8Array): DeltaResponse {
  const m = types().deltaRes.decode(buf) as Decoded;
  const resources: WireResource[] = [];
  for (const r of m.resources as Decoded[]) {
    const any = r.resource as Decoded | null | undefined;
    if (any === null || any === undefined) continue;
    resources.push({ typeUrl: anyTypeUrl(any), name: String(r.name), version: String(r.version), body: any.value as Uint8Array });
  }
  return {
    systemVersionInfo: String(m.systemVersionInfo),
    typeUrl: String(m.typeUrl),
    nonce: String(m.nonce),
    resources,
    removed: (m.removedResources as string[]).slice(),
  };
}

export function encodeSotwRequest(req: SotwRequest): Buffer {
  return encode(types().sotwReq, req);
}

export function encodeDeltaRequest(req: DeltaRequest): Buffer {
  return encode(types().deltaReq, req);
}

/** The client side of an ADS method: its path and how its messages are encoded and decoded. */
export interface AdsMethod<Req, Res> {
  readonly path: string;
  readonly encode: (request: Req) => Uint8Array;
  readonly decode: (message: Uint8Array) => Res;
}

export const SOTW: AdsMethod<SotwRequest, SotwResponse> = { path: SOTW_ADS_PATH, encode: encodeSotwRequest, decode: decodeSotwResponse };
export const DELTA: AdsMethod<DeltaRequest, DeltaResponse> = { path: DELTA_ADS_PATH, encode: encodeDeltaRequest, decode: decodeDeltaResponse };

/**
 * The name of a serialized Listener, Cluster, RouteConfiguration, ClusterLoadAssignment or Secret,
 * read without decoding the message: each keeps its name (`cluster_name` for the assignment) in field 1.
 * Undefined when the bytes hold no such field or are malformed (decoding will say what is wrong).
 */
export function resourceName(body: Uint8Array): string | undefined {
  try {
    const r = protobuf.Reader.create(body);
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 0x0a) return r.string(); // field 1, length-delimited
      r.skipType(tag & 7);
    }
  } catch {
    return undefined;
  }
  return undefined;
}
