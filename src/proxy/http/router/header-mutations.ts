/**
 * `*_headers_to_add` / `*_headers_to_remove` of a route configuration, virtual host, route or weighted
 * cluster, compiled into one `HeaderMutation` each, and their application with Envoy's HeaderParser
 * semantics: removals first; then every value is computed (and every `append_action` condition
 * checked) against the headers as they are after the removals; then overwrites, then appends. An
 * empty value is skipped unless `keep_empty_value`. `:`-prefixed headers and `host` may be neither
 * added nor removed (the route action rewrites them).
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#custom-request-response-headers
 */
import { formatHeaderValue, parseHeaderValue, type CommandEvaluator, type HeaderValueFormat } from './header-format.ts';
import { bool, enumName, field, has, headerName, headerValue, list, obj, Problems, str, type Proto } from './proto.ts';

export type AppendAction = 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';

const APPEND_ACTIONS: readonly AppendAction[] = ['APPEND_IF_EXISTS_OR_ADD', 'ADD_IF_ABSENT', 'OVERWRITE_IF_EXISTS_OR_ADD', 'OVERWRITE_IF_EXISTS'];

export interface HeaderToAdd {
  /** Lower-cased. */
  readonly name: string;
  readonly value: HeaderValueFormat;
  readonly action: AppendAction;
  readonly keepEmptyValue: boolean;
}

/** One level's header changes (route configuration, virtual host, route or weighted cluster). */
export interface HeaderMutation {
  readonly remove: readonly string[];
  readonly add: readonly HeaderToAdd[];
}

/** The headers being changed, as the connection manager holds them (names lower-cased). */
export interface MutableHeaders {
  has(name: string): boolean;
  /** Replaces every value of `name`. */
  set(name: string, value: string): void;
  /** Adds one more value of `name`. */
  append(name: string, value: string): void;
  remove(name: string): void;
}

const MAX_HEADERS_TO_ADD = 1000;

function isModifiable(name: string): boolean {
  return !name.startsWith(':') && name !== 'host';
}

/** Compiles the `<prefix>HeadersToAdd` / `<prefix>HeadersToRemove` fields of `p` (prefix `request` or `response`). */
export function compileHeaderMutation(p: Proto, prefix: 'request' | 'response', path: string, problems: Problems): HeaderMutation | undefined {
  const addKey = `${prefix}HeadersToAdd`;
  const removeKey = `${prefix}HeadersToRemove`;
  const adds = list(p[addKey]);
  const removes = list(p[removeKey]);
  if (adds.length === 0 && removes.length === 0) return undefined;
  if (adds.length > MAX_HEADERS_TO_ADD) problems.add(field(path, addKey), `more than ${MAX_HEADERS_TO_ADD} headers`);
  const add = adds.map((o, i) => compileHeaderOption(o, field(field(path, addKey), i), problems));
  const remove = removes.map((r, i) => {
    const at = field(field(path, removeKey), i);
    const name = headerName(r, at, problems);
    if (name !== '' && !isModifiable(name)) problems.add(at, `${JSON.stringify(str(r))}: :-prefixed or host headers may not be removed`);
    return name;
  });
  return { remove, add };
}

function compileHeaderOption(v: unknown, path: string, problems: Problems): HeaderToAdd {
  const o = obj(v) ?? {};
  const header = obj(o['header']);
  if (header === undefined) problems.add(field(path, 'header'), 'required');
  const h = header ?? {};
  const at = field(path, 'header');
  const name = headerName(h['key'], field(at, 'key'), problems);
  if (name !== '' && !isModifiable(name)) problems.add(field(at, 'key'), `${JSON.stringify(str(h['key']))}: :-prefixed or host headers may not be modified`);
  if (has(h, 'rawValue')) problems.add(field(at, 'rawValue'), 'raw_value is not supported; use value');
  const raw = headerValue(h['value'], field(at, 'value'), problems);
  let action = enumName(o, 'appendAction', APPEND_ACTIONS, path, problems) as AppendAction;
  if (has(o, 'append')) {
    if (action !== 'APPEND_IF_EXISTS_OR_ADD') problems.add(field(path, 'append'), 'both append and append_action are set');
    action = bool(o['append']) ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD';
  }
  return { name, value: parseHeaderValue(raw, field(at, 'value'), problems), action, keepEmptyValue: bool(o['keepEmptyValue']) };
}

// Scratch space for one mutation's computed values (application is synchronous and never re-entered).
const values: (string | undefined)[] = [];

/** Applies `mutations` in order (each one as Envoy's `HeaderParser::evaluateHeaders`). */
export function applyHeaderMutations(mutations: readonly HeaderMutation[], headers: MutableHeaders, evaluate?: CommandEvaluator): void {
  for (const m of mutations) applyOne(m, headers, evaluate);
}

function applyOne(m: HeaderMutation, headers: MutableHeaders, evaluate: CommandEvaluator | undefined): void {
  for (const name of m.remove) headers.remove(name);
  const n = m.add.length;
  for (let i = 0; i < n; i++) values[i] = valueToWrite(m.add[i]!, headers, evaluate);
  // Overwrites first, then appends, so an append never lands before an overwrite of the same header.
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const a = m.add[i]!;
    if (v !== undefined && (a.action === 'OVERWRITE_IF_EXISTS_OR_ADD' || a.action === 'OVERWRITE_IF_EXISTS')) headers.set(a.name, v);
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const a = m.add[i]!;
    if (v !== undefined && (a.action === 'APPEND_IF_EXISTS_OR_ADD' || a.action === 'ADD_IF_ABSENT')) headers.append(a.name, v);
    values[i] = undefined;
  }
}

/** The value to write for `a`, or undefined when nothing is to be written. */
function valueToWrite(a: HeaderToAdd, headers: MutableHeaders, evaluate: CommandEvaluator | undefined): string | undefined {
  const v = formatHeaderValue(a.value, evaluate);
  if (v === '' && !a.keepEmptyValue) return undefined;
  if (a.action === 'ADD_IF_ABSENT' && headers.has(a.name)) return undefined;
  if (a.action === 'OVERWRITE_IF_EXISTS' && !headers.has(a.name)) return undefined;
  return v;
}
