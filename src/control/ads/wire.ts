/**
 * The ADS wire format, requests side: DiscoveryRequest and DeltaDiscoveryRequest decoded into small
 * typed shapes, and the node converted for the resource server. Responses are assembled in
 * responses.ts (re-exported here). Field numbers: envoy/service/discovery/v3/discovery.proto.
 */

import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';
import type { XdsNode } from '../../xds/resource-server.ts';
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

const NODE = 'envoy.config.core.v3.Node';
const STATUS = 'google.rpc.Status';

let types: { node: Type; status: Type } | undefined;
function wireTypes(): { node: Type; status: Type } {
  return (types ??= { node: messageType(NODE), status: messageType(STATUS) });
}

type Decoded = Record<string, any>; // a protobufjs message: unset fields read as defaults from the prototype

/** An error_detail field (google.rpc.Status) at the reader's position. */
function readErrorDetail(r: protobuf.Reader): ErrorDetail {
  const e = wireTypes().status.decode(r, r.uint32()) as Decoded;
  return { code: Number(e.code ?? 0), message: String(e.message ?? '') };
}

/**
 * Strings requests repeat on every message (type URLs), kept decoded: an ACK then costs no string of
 * its own for them. Bounded: a client sending many distinct ones just gets them decoded.
 */
const interned: { readonly bytes: Buffer; readonly text: string }[] = [];
const MAX_INTERNED = 32;

/** A string field at the reader's position, interned (see `interned`). */
function readInterned(r: protobuf.Reader, bytes: Buffer): string {
  const end = payloadEnd(r);
  const start = r.pos;
  r.pos = end;
  const len = end - start;
  for (const s of interned) {
    if (s.bytes.length !== len) continue;
    let i = 0;
    while (i < len && s.bytes[i] === bytes[start + i]) i++;
    if (i === len) return s.text;
  }
  const text = bytes.toString('utf8', start, end);
  if (interned.length < MAX_INTERNED) interned.push({ bytes: Buffer.from(bytes.subarray(start, end)), text });
  return text;
}

/** The end of a length-delimited field's payload starting at the reader's position (checked against the message). */
function payloadEnd(r: protobuf.Reader): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new RangeError(`field of ${len} bytes runs past the end of the message (at ${r.pos} of ${r.len})`);
  return end;
}

/** Per decoded request, its resource_names fields as sent (see `resourceNamesBytes`). */
const namesBytes = new WeakMap<SotwRequest, Buffer>();
const NO_BYTES = Buffer.alloc(0);

/**
 * Reads a DiscoveryRequest field by field (version_info=1, node=2, resource_names=3, type_url=4,
 * response_nonce=5, error_detail=6; others skipped). The resource names are not decoded here: an ACK
 * repeats the whole subscription (thousands of names for EDS), so their raw bytes are kept for the
 * protocol to compare with the previous request's, and decoded on first access only when they differ.
 */
export function decodeSotwRequest(buf: Uint8Array): SotwRequest {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const r = protobuf.Reader.create(bytes);
  let versionInfo = '';
  let typeUrl = '';
  let responseNonce = '';
  let rawNode: RawNode | null = null;
  let detail: ErrorDetail | null = null;
  const spans: number[] = []; // start, end of each run of resource_names fields
  while (r.pos < r.len) {
    const at = r.pos;
    const t = r.uint32();
    switch (t) {
      case 0x0a: versionInfo = r.string(); break;
      case 0x12: rawNode = wireTypes().node.decode(r, r.uint32()) as unknown as RawNode; break;
      case 0x1a: {
        r.pos = skipNames(bytes, at, r.len);
        if (spans.length > 0 && spans[spans.length - 1] === at) spans[spans.length - 1] = r.pos;
        else spans.push(at, r.pos);
        break;
      }
      case 0x22: typeUrl = readInterned(r, bytes); break;
      case 0x2a: responseNonce = r.string(); break;
      case 0x32: detail = readErrorDetail(r); break;
      default: r.skipType(t & 7);
    }
  }
  const names = namesSpan(bytes, spans);
  let decoded: readonly string[] | undefined;
  const request: SotwRequest = {
    versionInfo,
    node: rawNode,
    get resourceNames(): readonly string[] {
      return (decoded ??= decodeNames(names));
    },
    typeUrl,
    responseNonce,
    errorDetail: detail,
  };
  namesBytes.set(request, names);
  return request;
}

/** The resource_names fields of a decoded request as sent, or undefined for a request built otherwise. */
export function resourceNamesBytes(request: SotwRequest): Buffer | undefined {
  return namesBytes.get(request);
}

/**
 * The end of the run of resource_names fields (tag 0x1a) starting at `pos`: a tight loop over the
 * bytes, since an ACK carries thousands of them.
 */
function skipNames(bytes: Buffer, pos: number, end: number): number {
  while (pos < end && bytes[pos] === 0x1a) {
    pos++;
    let len = 0;
    let scale = 1;
    let b: number;
    do {
      b = bytes[pos++] ?? 0;
      len += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80 && pos < end);
    pos += len;
  }
  if (pos > end) throw new RangeError(`resource_names field runs past the end of the request (${pos} > ${end})`);
  return pos;
}

function namesSpan(bytes: Buffer, spans: readonly number[]): Buffer {
  if (spans.length === 0) return NO_BYTES;
  if (spans.length === 2) return bytes.subarray(spans[0], spans[1]);
  const parts: Buffer[] = [];
  for (let i = 0; i < spans.length; i += 2) parts.push(bytes.subarray(spans[i], spans[i + 1]));
  return Buffer.concat(parts);
}

/** Decodes a run of resource_names fields (each tag 0x1a, length, UTF-8). */
export function decodeNames(bytes: Buffer): string[] {
  const names: string[] = [];
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    r.uint32();
    names.push(r.string());
  }
  return names;
}

const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_VERSIONS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

/** One initial_resource_versions map entry (key=1, value=2) into `into`. */
function readVersionEntry(r: protobuf.Reader, into: Record<string, string>): void {
  const end = payloadEnd(r);
  let key = '';
  let value = '';
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 0x0a) key = r.string();
    else if (t === 0x12) value = r.string();
    else r.skipType(t & 7);
  }
  if (r.pos !== end) throw new RangeError('initial_resource_versions entry overruns its length');
  into[key] = value;
}

/**
 * Reads a DeltaDiscoveryRequest field by field (node=1, type_url=2, resource_names_subscribe=3,
 * resource_names_unsubscribe=4, initial_resource_versions=5, response_nonce=6, error_detail=7; resource
 * locators and unknown fields skipped). An ACK, most of what a push brings back, is a type URL (interned)
 * and a nonce: it costs one small object and no arrays.
 */
export function decodeDeltaRequest(buf: Uint8Array): DeltaRequest {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const r = protobuf.Reader.create(bytes);
  let rawNode: RawNode | null = null;
  let typeUrl = '';
  let subscribe: string[] | undefined;
  let unsubscribe: string[] | undefined;
  let versions: Record<string, string> | undefined;
  let responseNonce = '';
  let detail: ErrorDetail | null = null;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t) {
      case 0x0a: rawNode = wireTypes().node.decode(r, r.uint32()) as unknown as RawNode; break;
      case 0x12: typeUrl = readInterned(r, bytes); break;
      case 0x1a: (subscribe ??= []).push(r.string()); break;
      case 0x22: (unsubscribe ??= []).push(r.string()); break;
      case 0x2a: readVersionEntry(r, (versions ??= Object.create(null) as Record<string, string>)); break;
      case 0x32: responseNonce = r.string(); break;
      case 0x3a: detail = readErrorDetail(r); break;
      default: r.skipType(t & 7);
    }
  }
  return {
    node: rawNode,
    typeUrl,
    subscribe: subscribe ?? NO_NAMES,
    unsubscribe: unsubscribe ?? NO_NAMES,
    initialResourceVersions: versions ?? NO_VERSIONS,
    responseNonce,
    errorDetail: detail,
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

export { encodeDeltaResponse, encodeSotwResponse } from './responses.ts';
