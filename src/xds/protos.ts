/**
 * Envoy's v3 protos, loaded once (lazily, synchronously, ~100 ms) with protobufjs from the copy that
 * @grpc/grpc-js-xds ships in its `deps/` folder, and the codec every part of weft uses for xDS
 * resources: plain camelCase objects in (checked first, see proto-check.ts), bytes out; bytes in,
 * plain objects out for debug output. Nested `google.protobuf.Any` is written and read as
 * `{'@type': 'type.googleapis.com/<message>', ...fields}` (protobufjs's Any wrapper).
 */

import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import type { IConversionOptions, Root, Type } from 'protobufjs';
import { checkMessage } from './proto-check.ts';
import { XdsEncodeError, XdsError } from './errors.ts';
import { messageName } from './type-urls.ts';

export { structToJs, jsToStruct, valueToJs, jsToValue } from './struct.ts';
export type { StructObject, ValueObject } from './struct.ts';

/** The proto files loaded (their imports come along). Add here what a new generator or filter needs. */
export const PROTO_FILES: readonly string[] = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
  'google/protobuf/struct.proto',
  'google/protobuf/any.proto',
  'google/protobuf/duration.proto',
  'google/protobuf/wrappers.proto',
];

/** Folders searched for imports, in order: Envoy, xds/udpa, googleapis, protoc-gen-validate, protobufjs (descriptor.proto). */
function includeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const pbjs = path.dirname(require.resolve('protobufjs/package.json'));
  return [path.join(deps, 'envoy-api'), path.join(deps, 'xds'), path.join(deps, 'googleapis'), path.join(deps, 'protoc-gen-validate'), pbjs];
}

let loaded: { readonly root: Root; readonly ms: number } | undefined;
const typeCache = new Map<string, Type | null>();

/** Loads the protos if not yet loaded; returns the root and how long loading took. Call at startup to pay the cost early. */
export function loadProtos(): { readonly root: Root; readonly ms: number } {
  if (loaded !== undefined) return loaded;
  const start = performance.now();
  const dirs = includeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (path.isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target; // protobufjs serves its bundled google/protobuf/*.proto by this name
  };
  const core = path.join(dirs[0] ?? '', 'envoy/config/core/v3');
  const coreFiles = readdirSync(core).filter((f) => f.endsWith('.proto')).map((f) => `envoy/config/core/v3/${f}`);
  try {
    root.loadSync([...PROTO_FILES, ...coreFiles], { keepCase: false });
  } catch (err) {
    throw new XdsError('XDS_PROTO_LOAD', `cannot load Envoy protos: ${(err as Error).message}`, { cause: err });
  }
  loaded = { root, ms: performance.now() - start };
  return loaded;
}

export function protoRoot(): Root {
  return loadProtos().root;
}

/** The message type for a type URL or a full message name, or undefined when it is not loaded. */
export function findMessageType(typeUrlOrName: string): Type | undefined {
  const name = messageName(typeUrlOrName);
  let type = typeCache.get(name);
  if (type === undefined) {
    const found = protoRoot().lookup(name);
    type = found instanceof protobuf.Type ? found : null;
    typeCache.set(name, type);
  }
  return type ?? undefined;
}

/** The message type for a type URL or a full message name; throws `XDS_UNKNOWN_TYPE` when it is not loaded. */
export function messageType(typeUrlOrName: string): Type {
  const type = findMessageType(typeUrlOrName);
  if (type === undefined) throw new XdsError('XDS_UNKNOWN_TYPE', `unknown message type '${typeUrlOrName}' (not among the loaded protos)`);
  return type;
}

export interface EncodeOptions {
  /** Check the object against the proto first (default true). Skip only for objects already checked. */
  readonly check?: boolean;
}

/**
 * Encodes a plain camelCase object as the message behind `typeUrlOrName`. Throws `XdsEncodeError`
 * (code `XDS_ENCODE`) naming the type and every problem when the object does not fit the proto.
 */
export function encodeResource(typeUrlOrName: string, obj: unknown, options?: EncodeOptions): Uint8Array {
  const type = messageType(typeUrlOrName);
  if (options?.check !== false) {
    const problems = checkMessage(type, obj, findMessageType);
    if (problems.length > 0) throw new XdsEncodeError(messageName(typeUrlOrName), problems);
  }
  try {
    return type.encode(type.fromObject(obj as Record<string, unknown>)).finish();
  } catch (err) {
    throw new XdsEncodeError(messageName(typeUrlOrName), [(err as Error).message], { cause: err });
  }
}

const DECODE_OPTIONS: IConversionOptions = { enums: String, longs: Number, bytes: String, json: true };

/**
 * Decodes bytes of the message behind `typeUrlOrName` into a plain object: enums as names, 64-bit
 * integers as numbers, bytes as base64, Any expanded with `@type`. For debug output (config_dump),
 * not for hot paths. Throws `XDS_DECODE` on malformed bytes.
 */
export function decodeResource(typeUrlOrName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = messageType(typeUrlOrName);
  try {
    return type.toObject(type.decode(bytes), DECODE_OPTIONS);
  } catch (err) {
    throw new XdsError('XDS_DECODE', `cannot decode ${messageName(typeUrlOrName)}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Decodes bytes into canonical proto3 JSON, the format of Envoy's `/config_dump` (durations as
 * `"5s"`, Struct as plain JSON, wrappers as bare values, 64-bit integers as strings, Any with `@type`).
 * Throws `XDS_DECODE` on malformed bytes.
 */
export function resourceToJson(typeUrlOrName: string, bytes: Uint8Array): unknown {
  const type = messageType(typeUrlOrName);
  try {
    return protojson.toJson(type, type.decode(bytes));
  } catch (err) {
    throw new XdsError('XDS_DECODE', `cannot decode ${messageName(typeUrlOrName)}: ${(err as Error).message}`, { cause: err });
  }
}

/** A short, stable content hash (16 hex digits of SHA-256), used as a resource version. */
export function contentVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
