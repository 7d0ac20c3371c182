/**
 * `google.protobuf.Struct` ⇄ plain JS, in the plain-object shape protobufjs uses (`{fields: {k: Value}}`,
 * `Value` as one of `nullValue`/`numberValue`/`stringValue`/`boolValue`/`structValue`/`listValue`).
 * Node metadata arrives as a Struct (https://protobuf.dev/reference/protobuf/google.protobuf/#struct).
 */

export interface StructObject {
  fields?: Record<string, ValueObject>;
}

export interface ValueObject {
  nullValue?: 'NULL_VALUE' | 0;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructObject;
  listValue?: { values?: ValueObject[] };
}

/** A decoded Struct as a plain JS object. A Value with no kind set reads as null. */
export function structToJs(struct: StructObject | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = struct?.fields;
  if (fields === undefined || fields === null) return out;
  for (const key of Object.keys(fields)) out[key] = valueToJs(fields[key]);
  return out;
}

export function valueToJs(v: ValueObject | null | undefined): unknown {
  if (v === undefined || v === null) return null;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.numberValue !== undefined && v.numberValue !== null) return v.numberValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  if (v.structValue !== undefined && v.structValue !== null) return structToJs(v.structValue);
  if (v.listValue !== undefined && v.listValue !== null) return (v.listValue.values ?? []).map(valueToJs);
  return null;
}

/** A plain JS object as a Struct ready for encoding. `undefined` members are left out, as JSON does. */
export function jsToStruct(obj: Readonly<Record<string, unknown>>): StructObject {
  const fields: Record<string, ValueObject> = {};
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v !== undefined) fields[key] = jsToValue(v);
  }
  return { fields };
}

export function jsToValue(v: unknown): ValueObject {
  switch (typeof v) {
    case 'string': return { stringValue: v };
    case 'number': return { numberValue: v };
    case 'bigint': return { numberValue: Number(v) };
    case 'boolean': return { boolValue: v };
    case 'object':
      if (v === null) return { nullValue: 'NULL_VALUE' };
      if (Array.isArray(v)) return { listValue: { values: v.map((x) => jsToValue(x === undefined ? null : x)) } };
      return { structValue: jsToStruct(v as Record<string, unknown>) };
    default: return { nullValue: 'NULL_VALUE' };
  }
}
