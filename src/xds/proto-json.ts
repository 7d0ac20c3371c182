/**
 * proto3 JSON under the `.proto` files' own field names (`virtual_hosts`, `typed_config`), the form of
 * Envoy's admin output: Envoy prints `/config_dump` with `preserve_proto_field_names`, which istioctl's
 * `proxy-config` and every script written against Envoy read. protobufjs writes proto3 JSON under the
 * lowerCamel JSON names; `withProtoNames` walks that output with the message type and renames each
 * field's key to the field's proto name (`proxy_100_continue`, which no case rule derives from
 * `proxy100Continue`). Only field keys change: map keys (`typed_per_filter_config` filter names,
 * `filter_metadata` namespaces), `google.protobuf.Struct` contents and the other well-known types'
 * JSON forms stay as they are, and an `Any` is walked with the type its `@type` names.
 * For admin output, not hot paths.
 * https://protobuf.dev/programming-guides/json/ ("use proto field name instead of lowerCamelCase name")
 */
import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';
import { messageName } from './type-urls.ts';

const ANY = '.google.protobuf.Any';

/** Well-known types whose proto3 JSON is not an object of their fields (left as protojson writes them). */
export const SPECIAL_JSON: ReadonlySet<string> = new Set(
  ['Duration', 'Timestamp', 'FieldMask', 'Struct', 'Value', 'ListValue', 'DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value',
    'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`),
);

const byWrittenName = new WeakMap<Type, Map<string, Field>>();

/** A type's fields by every name an object may carry them under (JSON name, protobufjs name, proto name). */
function fieldsOf(type: Type): Map<string, Field> {
  let fields = byWrittenName.get(type);
  if (fields === undefined) {
    fields = new Map();
    for (const f of type.fieldsArray) {
      const field = f.resolve();
      for (const name of [field.jsonName, field.name, protoName(field)]) if (name !== undefined && !fields.has(name)) fields.set(name, field);
    }
    byWrittenName.set(type, fields);
  }
  return fields;
}

/** The field's name in its `.proto` file. */
export function protoName(field: Field): string {
  return (field as Field & { protoName?: string }).protoName ?? field.name;
}

/** The field of `type` whose proto name is `name`. */
export function fieldByProtoName(type: Type, name: string): Field | undefined {
  const field = fieldsOf(type).get(name);
  return field !== undefined && protoName(field) === name ? field : undefined;
}

/** The message type an `Any`'s `@type` names, if the root has it (protojson loaded it while writing). */
export function anyContentType(root: protobuf.Root, typeUrl: unknown): Type | undefined {
  if (typeof typeUrl !== 'string') return undefined;
  const found = root.lookup(messageName(typeUrl));
  return found instanceof protobuf.Type ? found : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function renameAny(anyType: Type, json: Record<string, unknown>): Record<string, unknown> {
  const content = anyContentType(anyType.root as protobuf.Root, json['@type']);
  if (content === undefined || SPECIAL_JSON.has(content.fullName)) return json;
  const { '@type': url, ...fields } = json;
  return { '@type': url, ...(withProtoNames(content, fields) as Record<string, unknown>) };
}

function renameValue(field: Field, value: unknown): unknown {
  const type = field.resolvedType;
  if (!(type instanceof protobuf.Type)) return value;
  if (field.map) return isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withProtoNames(type, v)])) : value;
  if (field.repeated) return Array.isArray(value) ? value.map((v) => withProtoNames(type, v)) : value;
  return withProtoNames(type, value);
}

/**
 * `json`, a message of `type` in proto3 JSON (or a decoded camelCase object), with every field key
 * renamed to its proto field name. Keys that name no field (extensions, `@type`) are kept.
 */
export function withProtoNames(type: Type, json: unknown): unknown {
  if (!isObject(json)) return json;
  if (type.fullName === ANY) return renameAny(type, json);
  if (SPECIAL_JSON.has(type.fullName)) return json;
  const fields = fieldsOf(type);
  return Object.fromEntries(Object.entries(json).map(([key, value]) => {
    const field = fields.get(key);
    return field === undefined ? [key, value] : [protoName(field), renameValue(field, value)];
  }));
}
