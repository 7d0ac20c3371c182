/**
 * `google.protobuf.FieldMask` applied to proto3 JSON under proto field names (the config dump), as
 * protobuf's `FieldMaskUtil::TrimMessage` applies it to a message, which Envoy's `/config_dump?mask=`
 * uses: only the fields the paths name are kept, a path ending at a message keeps it whole, a shorter
 * path wins over a longer one below it, and a mask is refused as a whole when one of its paths does not
 * name fields of the type (`GetFieldDescriptors`: every part a field, every part but the last a singular
 * message; repeated fields cannot be indexed into).
 *
 * An `Any` field is followed into the message it holds, checked against that message's type when
 * present: Envoy does this only for the single Any of a `?resource=` element (`cluster.name` on a
 * DynamicCluster); weft allows it at any depth (`active_state.listener.name` on a DynamicListener),
 * which Envoy refuses for want of a general implementation (envoyproxy/envoy#9669).
 * https://github.com/protocolbuffers/protobuf/blob/main/src/google/protobuf/util/field_mask_util.h
 */
import protobuf from 'protobufjs';
import type { Type } from 'protobufjs';
import { anyContentType, fieldByProtoName, SPECIAL_JSON } from '../../xds/proto-json.ts';

/** A mask as a tree of field names; an empty node keeps its field whole. */
type MaskTree = Map<string, MaskTree>;

/** `FieldMaskUtil::FromString`: comma-separated paths, empty ones skipped. */
export function parseFieldMask(text: string): string[] {
  return text.split(',').filter((p) => p !== '');
}

function maskTree(paths: readonly string[]): MaskTree {
  const root: MaskTree = new Map();
  for (const path of paths) {
    const parts = path.split('.').filter((p) => p !== ''); // protobuf's Split skips empty parts
    let node = root;
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      let child = node.get(part);
      if (child === undefined) node.set(part, (child = new Map()));
      else if (child.size === 0) break; // a shorter path keeps it whole already
      else if (last) child.clear(); // this shorter path keeps it whole
      if (last) break;
      node = child;
    }
  }
  return root;
}

const ANY = '.google.protobuf.Any';
const INVALID = Symbol('invalid mask');

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The Any `value` (`{'@type', …fields}`) trimmed by `tree`, checked against the type it holds. */
function trimAny(root: protobuf.Root, tree: MaskTree, value: unknown): unknown {
  if (!isObject(value)) return value; // absent: nothing to check the paths against, as Envoy
  const content = anyContentType(root, value['@type']);
  if (content === undefined) return INVALID;
  if (SPECIAL_JSON.has(content.fullName)) return trim(content, tree, undefined) === INVALID ? INVALID : value;
  const { '@type': url, ...fields } = value;
  const trimmed = trim(content, tree, fields);
  return trimmed === INVALID ? INVALID : { '@type': url, ...trimmed };
}

function trim(type: Type, tree: MaskTree, json: Record<string, unknown> | undefined): Record<string, unknown> | typeof INVALID {
  const out: Record<string, unknown> = {};
  for (const [name, sub] of tree) {
    const field = fieldByProtoName(type, name);
    if (field === undefined) return INVALID;
    const value = json?.[name];
    if (sub.size === 0) {
      if (value !== undefined) out[name] = value;
      continue;
    }
    const inner = field.resolve().resolvedType;
    if (field.repeated || field.map || !(inner instanceof protobuf.Type)) return INVALID;
    let kept: unknown;
    if (inner.fullName === ANY) kept = trimAny(type.root as protobuf.Root, sub, value);
    else if (SPECIAL_JSON.has(inner.fullName)) kept = trim(inner, sub, undefined) === INVALID ? INVALID : value; // its JSON form has no fields to trim
    else kept = trim(inner, sub, isObject(value) ? value : undefined);
    if (kept === INVALID) return INVALID;
    if (value !== undefined) out[name] = kept;
  }
  return out;
}

/**
 * `json` (a message of `type` in proto3 JSON under proto field names) with only the fields `paths`
 * name, or undefined when a path does not name fields of the type. A `@type` key is kept.
 */
export function applyFieldMask(type: Type, json: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> | undefined {
  // Every path is checked on its own first: one that a shorter path covers must still name fields.
  if (paths.some((p) => trim(type, maskTree([p]), json) === INVALID)) return undefined;
  const trimmed = trim(type, maskTree(paths), json);
  if (trimmed === INVALID) return undefined;
  return json['@type'] !== undefined ? { '@type': json['@type'], ...trimmed } : trimmed;
}
