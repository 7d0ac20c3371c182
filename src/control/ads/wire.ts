/**
 * The ADS wire format: requests decoded with protobufjs into small typed shapes; responses written
 * directly with protobufjs's Writer around already-encoded resource bodies, so a push never re-encodes
 * a resource. Field numbers are those of envoy/service/discovery/v3/discovery.proto.
 */

import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';
import type { EncodedResource, XdsNode } from '../../xds/resource-server.ts';
import { messageType, structToJs } from '../../xds/protos.ts';
import type { StructObject } from '../../xds/protos.ts';

/** The node as sent on the wire (a protobufjs message); converted to `XdsNode` once per stream. */
export type RawNode = Readonly<Record<string, unknown>>;

export interface ErrorDetail {
  readonly code: number;
  readonly message: string;
}

export interface SotwRequest {
  readonly versionInfo: string;
  readonly node: RawNode | null;
  readonly resourceNames: readonly string[];
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly errorDetail: ErrorDetail | null;
}

export interface DeltaRequest {
  readonly node: RawNode | null;
  readonly typeUrl: string;
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
  readonly initialResourceVersions: Readonly<Record<string, string>>;
  readonly responseNonce: string;
  readonly errorDetail: ErrorDetail | null;
}

const SOTW_REQUEST = 'envoy.service.discovery.v3.DiscoveryRequest';
const DELTA_REQUEST = 'envoy.service.discovery.v3.DeltaDiscoveryRequest';
const NODE = 'envoy.config.core.v3.Node';

let types: { sotw: Type; delta: Type; node: Type } | undefined;
function wireTypes(): { sotw: Type; delta: Type; node: Type } {
  return (types ??= { sotw: messageType(SOTW_REQUEST), delta: messageType(DELTA_REQUEST), node: messageType(NODE) });
}

type Decoded = Record<string, any>; // a protobufjs message: unset fields read as defaults from the prototype

function errorDetail(m: Decoded): ErrorDetail | null {
  const e = m.errorDetail as Decoded | null | undefined;
  return e === null || e === undefined ? null : { code: Number(e.code ?? 0), message: String(e.message ?? '') };
}

function node(m: Decoded): RawNode | null {
  return (m.node as RawNode | null | undefined) ?? null;
}

export function decodeSotwRequest(bytes: Uint8Array): SotwRequest {
  const m = wireTypes().sotw.decode(bytes) as Decoded;
  return {
    versionInfo: m.versionInfo as string,
    node: node(m),
    resourceNames: m.resourceNames as string[],
    typeUrl: m.typeUrl as string,
    responseNonce: m.responseNonce as string,
    errorDetail: errorDetail(m),
  };
}

export function decodeDeltaRequest(bytes: Uint8Array): DeltaRequest {
  const m = wireTypes().delta.decode(bytes) as Decoded;
  return {
    node: node(m),
    typeUrl: m.typeUrl as string,
    subscribe: m.resourceNamesSubscribe as string[],
    unsubscribe: m.resourceNamesUnsubscribe as string[],
    initialResourceVersions: m.initialResourceVersions as Record<string, string>,
    responseNonce: m.responseNonce as string,
    errorDetail: errorDetail(m),
  };
}

/** The node as the resource server sees it, or a reason it cannot be used. */
export function toXdsNode(raw: RawNode | null): XdsNode | { readonly error: string } {
  if (raw === null) return { error: 'the first request on the stream carries no node' };
  const n = wireTypes().node.toObject(raw as unknown as protobuf.Message, { enums: String, longs: Number }) as Decoded;
  const id = typeof n.id === 'string' ? n.id : '';
  if (id === '') return { error: 'the node has no id' };
  const loc = n.locality as Decoded | undefined;
  return {
    id,
    cluster: typeof n.cluster === 'string' ? n.cluster : '',
    metadata: structToJs(n.metadata as StructObject | undefined),
    ...(loc === undefined ? {} : { locality: { region: loc.region, zone: loc.zone, subZone: loc.subZone } }),
    ...(typeof n.userAgentName === 'string' ? { userAgentName: n.userAgentName } : {}),
    ...(typeof n.userAgentVersion === 'string' ? { userAgentVersion: n.userAgentVersion } : {}),
  };
}

// Wire tags: (field number << 3) | 2 (length-delimited).
const tag = (field: number): number => (field << 3) | 2;

function writeAny(w: protobuf.Writer, field: number, typeUrl: string, body: Uint8Array): void {
  w.uint32(tag(field)).fork();
  w.uint32(tag(1)).string(typeUrl); // Any.type_url
  w.uint32(tag(2)).bytes(body); // Any.value
  w.ldelim();
}

/** A DiscoveryResponse: version_info=1, resources=2 (Any), type_url=4, nonce=5, control_plane=6. */
export function encodeSotwResponse(
  typeUrl: string, version: string, nonce: string, resources: readonly EncodedResource[], controlPlane: string,
): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(tag(1)).string(version);
  for (const r of resources) writeAny(w, 2, typeUrl, r.body);
  w.uint32(tag(4)).string(typeUrl);
  w.uint32(tag(5)).string(nonce);
  if (controlPlane !== '') w.uint32(tag(6)).fork().uint32(tag(1)).string(controlPlane).ldelim();
  return w.finish();
}

/**
 * A DeltaDiscoveryResponse: system_version_info=1, resources=2 (Resource: version=1, resource=2 Any,
 * name=3), type_url=4, nonce=5, removed_resources=6, control_plane=7.
 */
export function encodeDeltaResponse(
  typeUrl: string, systemVersion: string, nonce: string, resources: readonly EncodedResource[],
  removed: readonly string[], controlPlane: string,
): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(tag(1)).string(systemVersion);
  for (const r of resources) {
    w.uint32(tag(2)).fork();
    w.uint32(tag(1)).string(r.version);
    writeAny(w, 2, typeUrl, r.body);
    w.uint32(tag(3)).string(r.name);
    w.ldelim();
  }
  w.uint32(tag(4)).string(typeUrl);
  w.uint32(tag(5)).string(nonce);
  for (const name of removed) w.uint32(tag(6)).string(name);
  if (controlPlane !== '') w.uint32(tag(7)).fork().uint32(tag(1)).string(controlPlane).ldelim();
  return w.finish();
}
