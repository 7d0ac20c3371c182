/**
 * Assembles DiscoveryResponse and DeltaDiscoveryResponse bytes around already-encoded resources:
 * sizes first, then copies. A response is handed to the transport as an `OutgoingResponse` and written
 * only then, straight into the framed buffer the transport sends (grpc-call.ts), so each response costs
 * one copy of its resources and no allocation of its own.
 * What many streams send alike is built once: the part of a response that does not depend on the
 * stream (everything but the nonce) is cached per resource list from its second use, so a Generated
 * (SotW) or a diff (delta) sent to a thousand proxies is framed once and copied a thousand times; a
 * delta `Resource` entry is cached per EncodedResource. Caches are weak: they live as long as the
 * generator (or the diff) keeps the objects.
 * Both treat resource lists and resources as immutable.
 * Protobuf lets fields come in any order, so the nonce goes last, after the shared part.
 * Field numbers: envoy/service/discovery/v3/discovery.proto.
 */

import type { EncodedResource } from '../../xds/resource-server.ts';
import { fieldSize, stringFieldSize, tag, utf8, varintSize, writeStringField, writeVarint } from './wire-bytes.ts';
import type { Utf8 } from './wire-bytes.ts';
import type { FramedMessage } from '../../xds/grpc-frames.ts';

/** A response ready for the transport: its size is known now, its bytes are produced when it is written. */
export type OutgoingResponse = FramedMessage;

/** The message in a buffer of its own (tests and tools). */
export function serialize(response: OutgoingResponse): Buffer {
  const out = Buffer.allocUnsafe(response.length);
  response.writeTo(out, 0);
  return out;
}

// DiscoveryResponse: version_info=1, resources=2, type_url=4, nonce=5, control_plane=6.
// DeltaDiscoveryResponse: system_version_info=1, resources=2, type_url=4, nonce=5, removed_resources=6, control_plane=7.
// Resource: version=1, resource=2, name=3. Any: type_url=1, value=2. ControlPlane: identifier=1.

/** Per type URL, the bytes every Any of that type starts with: its type_url field and the tag of value. */
const anyPrefixes = new Map<string, Buffer>();

function anyPrefix(typeUrl: string): Buffer {
  let prefix = anyPrefixes.get(typeUrl);
  if (prefix === undefined) {
    const url = utf8(typeUrl);
    prefix = Buffer.allocUnsafe(stringFieldSize(url) + 1);
    const end = writeStringField(prefix, 0, 1, url);
    prefix[end] = tag(2);
    anyPrefixes.set(typeUrl, prefix);
  }
  return prefix;
}

/** Size of an Any holding `body` whose type prefix is `prefixLen` bytes. */
const anySize = (prefixLen: number, body: Uint8Array): number => prefixLen + varintSize(body.length) + body.length;

/** Writes field `field` holding an Any of `body`; returns the position after it. */
function writeAnyField(buf: Buffer, pos: number, field: number, prefix: Buffer, body: Uint8Array): number {
  buf[pos++] = tag(field);
  pos = writeVarint(buf, pos, anySize(prefix.length, body));
  buf.set(prefix, pos);
  pos = writeVarint(buf, pos + prefix.length, body.length);
  buf.set(body, pos);
  return pos + body.length;
}

/** The control_plane field's payload (a ControlPlane message), or undefined for none. */
function controlPlaneSize(id: Utf8): number {
  return id.bytes === 0 ? 0 : fieldSize(stringFieldSize(id));
}

function writeControlPlane(buf: Buffer, pos: number, field: number, id: Utf8): number {
  if (id.bytes === 0) return pos;
  buf[pos++] = tag(field);
  pos = writeVarint(buf, pos, stringFieldSize(id));
  return writeStringField(buf, pos, 1, id);
}

interface SharedPart {
  readonly typeUrl: string;
  readonly version: string;
  readonly controlPlane: string;
  /** Delta only: the removed names the part carries (the same array). */
  readonly removed: readonly string[] | undefined;
  readonly bytes: Buffer;
}

/**
 * A response whose every field but the nonce was written before: the shared bytes, then the nonce field.
 * A class rather than a closure, since a push makes one per stream.
 */
class SharedWithNonce implements OutgoingResponse {
  readonly length: number;
  readonly #shared: Buffer;
  readonly #nonce: Utf8;

  constructor(shared: Buffer, nonce: Utf8) {
    this.#shared = shared;
    this.#nonce = nonce;
    this.length = shared.length + stringFieldSize(nonce);
  }

  writeTo(out: Buffer, offset: number): void {
    out.set(this.#shared, offset);
    writeStringField(out, offset + this.#shared.length, 5, this.#nonce);
  }
}

/**
 * Per resource list (a Generated's, or a change set several streams share), per variant: its response
 * minus the nonce. Cached from a list's second use, so lists only one stream sends cost no copy.
 */
class SharedParts {
  readonly #parts = new WeakMap<readonly EncodedResource[], SharedPart>();
  readonly #seenOnce = new WeakSet<readonly EncodedResource[]>();

  get(resources: readonly EncodedResource[], typeUrl: string, version: string, controlPlane: string, removed?: readonly string[]): Buffer | undefined {
    const part = this.#parts.get(resources);
    return part !== undefined && part.version === version && part.typeUrl === typeUrl && part.controlPlane === controlPlane && part.removed === removed
      ? part.bytes : undefined;
  }

  /** Whether the list was seen before (then `keep` its shared part once written); marks it seen. */
  seen(resources: readonly EncodedResource[]): boolean {
    if (this.#seenOnce.has(resources)) return true;
    this.#seenOnce.add(resources);
    return false;
  }

  /** Keeps `out[start, end)`, just written, as the shared part of `resources`. */
  keep(resources: readonly EncodedResource[], typeUrl: string, version: string, controlPlane: string, removed: readonly string[] | undefined, out: Buffer, start: number, end: number): void {
    const bytes = Buffer.allocUnsafeSlow(end - start); // kept with the resource list: not from the shared pool
    out.copy(bytes, 0, start, end);
    this.#parts.set(resources, { typeUrl, version, controlPlane, removed, bytes });
  }
}

const sotwParts = new SharedParts();
const deltaParts = new SharedParts();

/** Size of a SotW response without its nonce field. */
function sotwSharedSize(prefix: Buffer, typeUrl: Utf8, version: Utf8, resources: readonly EncodedResource[], cp: Utf8): number {
  let size = stringFieldSize(version) + stringFieldSize(typeUrl) + controlPlaneSize(cp);
  for (let i = 0; i < resources.length; i++) size += fieldSize(anySize(prefix.length, resources[i]!.body));
  return size;
}

/** Writes a SotW response without its nonce into `buf` at `start`; returns the position after it. */
function writeSotwShared(buf: Buffer, start: number, prefix: Buffer, typeUrl: Utf8, version: Utf8, resources: readonly EncodedResource[], cp: Utf8): number {
  let pos = writeStringField(buf, start, 1, version);
  for (let i = 0; i < resources.length; i++) pos = writeAnyField(buf, pos, 2, prefix, resources[i]!.body);
  pos = writeStringField(buf, pos, 4, typeUrl);
  return writeControlPlane(buf, pos, 6, cp);
}

/** A DiscoveryResponse carrying `resources` (each wrapped in an Any of `typeUrl`). */
export function sotwResponse(
  typeUrl: string, version: string, nonce: string, resources: readonly EncodedResource[], controlPlane: string,
): OutgoingResponse {
  const n = utf8(nonce);
  const shared = sotwParts.get(resources, typeUrl, version, controlPlane);
  if (shared !== undefined) return new SharedWithNonce(shared, n);
  const prefix = anyPrefix(typeUrl);
  const [url, v, cp] = [utf8(typeUrl), utf8(version), utf8(controlPlane)];
  const sharedSize = sotwSharedSize(prefix, url, v, resources, cp);
  const cache = sotwParts.seen(resources);
  return {
    length: sharedSize + stringFieldSize(n),
    writeTo(out: Buffer, offset: number): void {
      const end = writeSotwShared(out, offset, prefix, url, v, resources, cp);
      writeStringField(out, end, 5, n);
      if (cache) sotwParts.keep(resources, typeUrl, version, controlPlane, undefined, out, offset, end);
    },
  };
}

/** `sotwResponse` serialized into a buffer of its own. */
export function encodeSotwResponse(
  typeUrl: string, version: string, nonce: string, resources: readonly EncodedResource[], controlPlane: string,
): Buffer {
  return serialize(sotwResponse(typeUrl, version, nonce, resources, controlPlane));
}

/** Per type URL, per resource: its framed delta `Resource` entry (field 2 of DeltaDiscoveryResponse). */
const deltaEntries = new Map<string, WeakMap<EncodedResource, Buffer>>();

function deltaEntry(typeUrl: string, r: EncodedResource): Buffer {
  let byResource = deltaEntries.get(typeUrl);
  if (byResource === undefined) deltaEntries.set(typeUrl, (byResource = new WeakMap()));
  let entry = byResource.get(r);
  if (entry === undefined) {
    const prefix = anyPrefix(typeUrl);
    const version = utf8(r.version);
    const name = utf8(r.name);
    const inner = stringFieldSize(version) + fieldSize(anySize(prefix.length, r.body)) + stringFieldSize(name);
    entry = Buffer.allocUnsafeSlow(fieldSize(inner)); // kept as long as the resource: not from the shared pool (see xds-generator.ts `standalone`)
    entry[0] = tag(2);
    let pos = writeVarint(entry, 1, inner);
    pos = writeStringField(entry, pos, 1, version);
    pos = writeAnyField(entry, pos, 2, prefix, r.body);
    writeStringField(entry, pos, 3, name);
    byResource.set(r, entry);
  }
  return entry;
}

/**
 * A DeltaDiscoveryResponse carrying `resources` (as Resource entries) and the `removed` names. The nonce
 * goes last, after the part a push shares among streams (cached per resource list, as for SotW).
 */
export function deltaResponse(
  typeUrl: string, systemVersion: string, nonce: string, resources: readonly EncodedResource[],
  removed: readonly string[], controlPlane: string,
): OutgoingResponse {
  const n = utf8(nonce);
  const shared = deltaParts.get(resources, typeUrl, systemVersion, controlPlane, removed);
  if (shared !== undefined) return new SharedWithNonce(shared, n);
  const entries = resources.map((r) => deltaEntry(typeUrl, r));
  const gone = removed.map(utf8);
  const [url, v, cp] = [utf8(typeUrl), utf8(systemVersion), utf8(controlPlane)];
  let size = stringFieldSize(v) + stringFieldSize(url) + controlPlaneSize(cp);
  for (const e of entries) size += e.length;
  for (const g of gone) size += stringFieldSize(g);
  const cache = deltaParts.seen(resources);
  return {
    length: size + stringFieldSize(n),
    writeTo(out: Buffer, offset: number): void {
      let pos = writeStringField(out, offset, 1, v);
      for (const e of entries) {
        out.set(e, pos);
        pos += e.length;
      }
      pos = writeStringField(out, pos, 4, url);
      for (const g of gone) pos = writeStringField(out, pos, 6, g);
      pos = writeControlPlane(out, pos, 7, cp);
      writeStringField(out, pos, 5, n);
      if (cache) deltaParts.keep(resources, typeUrl, systemVersion, controlPlane, removed, out, offset, pos);
    },
  };
}

/** `deltaResponse` serialized into a buffer of its own. */
export function encodeDeltaResponse(
  typeUrl: string, systemVersion: string, nonce: string, resources: readonly EncodedResource[],
  removed: readonly string[], controlPlane: string,
): Buffer {
  return serialize(deltaResponse(typeUrl, systemVersion, nonce, resources, removed, controlPlane));
}
