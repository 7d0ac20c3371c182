/**
 * Envoy's v3 protos, loaded lazily with protobufjs from the copy that @grpc/grpc-js-xds ships in its
 * `deps/` folder, and the codec every part of weft uses for xDS resources: plain camelCase objects in
 * (checked first, see proto-check.ts), bytes out; bytes in, plain objects out for debug output. Nested
 * `google.protobuf.Any` is written and read as `{'@type': 'type.googleapis.com/<message>', ...fields}`
 * (protobufjs's Any wrapper).
 *
 * The types every sidecar decodes come from a precompiled descriptor (proto-descriptor.ts), not from
 * parsing `.proto` text. Every other type loads on first use: a message name
 * (`envoy.extensions.filters.http.rbac.v3.RBAC`) names its package folder (Envoy's layout), the file
 * there that declares the top-level type is loaded with its imports, and the type is looked up again.
 * So a process pays only for the types it touches (a sidecar without policies never loads RBAC or JWT,
 * nor the control plane's service definitions); `preloadProtos()` pays for the usual set at once.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import type { IConversionOptions, Message, Root, Type } from 'protobufjs';
import { checkMessage } from './proto-check.ts';
import { DESCRIPTOR_FILES, readDescriptor } from './proto-descriptor.ts';
import { withProtoNames } from './proto-json.ts';
import { includeDirs, resolveImportsIn, WELL_KNOWN } from './proto-source.ts';
import { XdsEncodeError, XdsError } from './errors.ts';
import { messageName } from './type-urls.ts';

export { structToJs, jsToStruct, valueToJs, jsToValue } from './struct.ts';
export type { StructObject, ValueObject } from './struct.ts';


/** The proto files weft's generators and filters use, which `preloadProtos()` loads at once (their imports come along): the descriptor's and the rest. */
export const PROTO_FILES: readonly string[] = [
  ...DESCRIPTOR_FILES,
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
];

interface Loader {
  readonly root: Root;
  readonly dirs: readonly string[];
  /** Files loaded (with their imports) or found to declare nothing wanted, by path relative to an include dir. */
  readonly files: Set<string>;
  /** Milliseconds spent loading so far. */
  ms: number;
}

let loader: Loader | undefined;
const typeCache = new Map<string, Type | null>();

function loadFiles(l: Loader, files: readonly string[]): void {
  const todo = files.filter((f) => !l.files.has(f));
  if (todo.length === 0) return;
  const start = performance.now();
  for (const f of todo) l.files.add(f);
  try {
    l.root.loadSync(todo, { keepCase: false });
  } catch (err) {
    throw new XdsError('XDS_PROTO_LOAD', `cannot load Envoy protos (${todo.join(', ')}): ${(err as Error).message}`, { cause: err });
  } finally {
    l.ms += performance.now() - start;
  }
}

function createLoader(): Loader {
  const dirs = includeDirs();
  const root = new protobuf.Root();
  resolveImportsIn(root, dirs);
  const l: Loader = { root, dirs, files: new Set(), ms: 0 };
  // protojson reads Any contents through root.lookupType: let it load what it names, too.
  const lookupType = root.lookupType.bind(root);
  root.lookupType = (name: string | string[]) => {
    if (typeof name === 'string') ensureDeclared(l, name.replace(/^\./, ''));
    return lookupType(name);
  };
  const start = performance.now();
  const descriptor = readDescriptor();
  if (descriptor !== undefined) {
    root.addJSON(descriptor.nested);
    // Marked as loaded, by the name protobufjs keys each file with, so that no import parses one again.
    for (const f of descriptor.files) {
      l.files.add(f);
      root.files.push(Object.hasOwn(protobuf.common, f) ? f : root.resolvePath('', f)!);
    }
  }
  l.ms += performance.now() - start;
  loadFiles(l, WELL_KNOWN);
  return l;
}

function theLoader(): Loader {
  return (loader ??= createLoader());
}

const DECLARATION = (name: string) => new RegExp(`^(?:message|enum|service)\\s+${name}\\s*\\{`, 'm');

/**
 * Loads the file declaring `fullName` unless the root has it: the longest package prefix that is a
 * folder under an include dir, then the file in it declaring the next name part (Envoy keeps one
 * package per folder). Does nothing for names no file declares.
 */
function ensureDeclared(l: Loader, fullName: string): void {
  if (fullName === '' || l.root.lookup(fullName) !== null) return;
  const parts = fullName.split('.');
  for (let i = parts.length - 1; i >= 1; i--) {
    const rel = parts.slice(0, i).join('/');
    for (const dir of l.dirs) {
      const folder = path.join(dir, rel);
      if (!existsSync(folder)) continue;
      const file = declaringFile(folder, parts[i]!);
      if (file !== undefined) loadFiles(l, [`${rel}/${file}`]);
      return;
    }
  }
}

function declaringFile(folder: string, typeName: string): string | undefined {
  const declares = DECLARATION(typeName);
  for (const f of readdirSync(folder)) {
    if (f.endsWith('.proto') && declares.test(readFileSync(path.join(folder, f), 'utf8'))) return f;
  }
  return undefined;
}

// Any contents are looked up by name while converting; load what they name first. Installed before
// any Any type is set up (protobufjs binds wrappers then), and only for weft's own root.
const anyWrapper = protobuf.wrappers['.google.protobuf.Any']!;
protobuf.wrappers['.google.protobuf.Any'] = {
  fromObject(this: Type, object: Record<string, unknown>, ...rest: unknown[]): Message {
    const url = object?.['@type'];
    if (typeof url === 'string' && loader !== undefined && this.root === loader.root) ensureDeclared(loader, messageName(url));
    return (anyWrapper.fromObject as (...a: unknown[]) => Message).call(this, object, ...rest);
  },
  toObject(this: Type, message: Message & { type_url?: string }, options?: IConversionOptions, ...rest: unknown[]): Record<string, unknown> {
    const url = message?.type_url;
    if (options?.json === true && typeof url === 'string' && loader !== undefined && this.root === loader.root) ensureDeclared(loader, messageName(url));
    return (anyWrapper.toObject as (...a: unknown[]) => Record<string, unknown>).call(this, message, options, ...rest);
  },
};

/**
 * Makes the root ready and loads the ADS messages; returns the root and the milliseconds spent loading
 * protos so far. Other types load on first use.
 */
export function loadProtos(): { readonly root: Root; readonly ms: number } {
  const l = theLoader();
  loadFiles(l, ['envoy/service/discovery/v3/discovery.proto']);
  return { root: l.root, ms: l.ms };
}

/** Loads `files` (default: PROTO_FILES) now, so first uses do not pay for them: for a control plane's startup. */
export function preloadProtos(files: readonly string[] = PROTO_FILES): { readonly root: Root; readonly ms: number } {
  const l = theLoader();
  loadFiles(l, files);
  return { root: l.root, ms: l.ms };
}

export function protoRoot(): Root {
  return theLoader().root;
}

/** The message type for a type URL or a full message name (loading its file on first use), or undefined when no proto declares it. */
export function findMessageType(typeUrlOrName: string): Type | undefined {
  const name = messageName(typeUrlOrName);
  let type = typeCache.get(name);
  if (type === undefined) {
    const l = theLoader();
    ensureDeclared(l, name);
    const found = l.root.lookup(name);
    type = found instanceof protobuf.Type ? found : null;
    typeCache.set(name, type);
  }
  return type ?? undefined;
}

/** The message type for a type URL or a full message name; throws `XDS_UNKNOWN_TYPE` when no proto declares it. */
export function messageType(typeUrlOrName: string): Type {
  const type = findMessageType(typeUrlOrName);
  if (type === undefined) throw new XdsError('XDS_UNKNOWN_TYPE', `unknown message type '${typeUrlOrName}' (no Envoy proto declares it)`);
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
 * Decodes bytes into canonical proto3 JSON under the proto field names, the format of Envoy's
 * `/config_dump` (`virtual_hosts`, durations as `"5s"`, Struct as plain JSON, wrappers as bare values,
 * 64-bit integers as strings, Any with `@type`; map keys as they are). Throws `XDS_DECODE` on
 * malformed bytes.
 */
export function resourceToJson(typeUrlOrName: string, bytes: Uint8Array): unknown {
  const type = messageType(typeUrlOrName);
  try {
    return withProtoNames(type, protojson.toJson(type, type.decode(bytes)));
  } catch (err) {
    throw new XdsError('XDS_DECODE', `cannot decode ${messageName(typeUrlOrName)}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A decoded (camelCase) resource as config_dump shows it: `@type`, then `resourceToJson` of its
 * encoding; a resource that cannot be encoded (or holds an Any of a type no proto declares) is shown
 * as it is, under the proto field names still.
 */
export function resourceDumpJson(typeUrl: string, resource: object): Record<string, unknown> {
  try {
    return { '@type': typeUrl, ...(resourceToJson(typeUrl, encodeResource(typeUrl, resource, { check: false })) as Record<string, unknown>) };
  } catch {
    const type = findMessageType(typeUrl);
    return { '@type': typeUrl, ...((type === undefined ? resource : withProtoNames(type, resource)) as Record<string, unknown>) };
  }
}

/** A short, stable content hash (16 hex digits of SHA-256), used as a resource version. */
export function contentVersion(bytes: Uint8Array): string {
  // Taken when first needed (the control plane), not at load: a sidecar decodes resources and never loads
  // node:crypto. (`import … from 'node:crypto'` would also build its ES namespace, which loads WebCrypto.)
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
