/**
 * `envoy.type.matcher.v3.MetadataMatcher` over the dynamic metadata HTTP filters write at request time
 * (JWT claims, RBAC results…), as the route's `dynamic_metadata` matchers use it. The metadata is read
 * as plain JSON-like values (what a filter stored); a path walks object keys; a missing value is
 * protobuf's unset `Value`, which only `present_match: false` accepts.
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/type/matcher/v3/metadata.proto
 */
import { compileStringMatcher, type StringTest } from './matchers.ts';
import { bool, field, has, list, num, obj, Problems, str } from './proto.ts';

type ValueTest = (value: unknown) => boolean;

export interface MetadataMatcher {
  readonly filter: string;
  readonly path: readonly string[];
  readonly test: ValueTest;
  readonly invert: boolean;
}

/** Reads a filter's dynamic metadata (a JSON-like object), or undefined when the filter wrote none. */
export type MetadataLookup = (filter: string) => unknown;

export function compileMetadataMatcher(v: unknown, path: string, problems: Problems): MetadataMatcher {
  const m = obj(v) ?? {};
  const filter = str(m['filter']) ?? '';
  if (filter === '') problems.add(field(path, 'filter'), 'required');
  const segments = list(m['path']).map((s, i) => {
    const key = str(obj(s)?.['key']) ?? '';
    if (key === '') problems.add(field(field(path, 'path'), i), 'key required');
    return key;
  });
  if (segments.length === 0) problems.add(field(path, 'path'), 'at least one segment required');
  if (!has(m, 'value')) problems.add(field(path, 'value'), 'required');
  return { filter, path: segments, test: compileValueMatcher(m['value'], field(path, 'value'), problems), invert: bool(m['invert']) };
}

/** Envoy's `Matchers::ValueMatcher` family over a JSON-like value. */
function compileValueMatcher(v: unknown, path: string, problems: Problems): ValueTest {
  const m = obj(v) ?? {};
  if (has(m, 'nullMatch')) return (x) => x === null;
  if (has(m, 'doubleMatch')) return doubleTest(obj(m['doubleMatch']) ?? {}, field(path, 'doubleMatch'), problems);
  if (has(m, 'stringMatch')) {
    const t: StringTest = compileStringMatcher(m['stringMatch'], field(path, 'stringMatch'), problems);
    return (x) => typeof x === 'string' && t(x);
  }
  if (has(m, 'boolMatch')) {
    const want = bool(m['boolMatch']);
    return (x) => x === want;
  }
  if (has(m, 'presentMatch')) {
    const want = bool(m['presentMatch']);
    return (x) => (x !== undefined) === want;
  }
  if (has(m, 'listMatch')) {
    const oneOf = obj(obj(m['listMatch'])?.['oneOf']);
    if (oneOf === undefined) problems.add(field(field(path, 'listMatch'), 'oneOf'), 'required');
    const t = compileValueMatcher(oneOf, field(field(path, 'listMatch'), 'oneOf'), problems);
    return (x) => Array.isArray(x) && x.some(t);
  }
  if (has(m, 'orMatch')) {
    const items = list(obj(m['orMatch'])?.['valueMatchers']);
    const at = field(field(path, 'orMatch'), 'valueMatchers');
    if (items.length < 2) problems.add(at, 'at least two value matchers required');
    const tests = items.map((item, i) => compileValueMatcher(item, field(at, i), problems));
    return (x) => tests.some((t) => t(x));
  }
  problems.add(path, 'one of nullMatch, doubleMatch, stringMatch, boolMatch, presentMatch, listMatch, orMatch is required');
  return () => false;
}

function doubleTest(d: Record<string, unknown>, path: string, problems: Problems): ValueTest {
  if (has(d, 'exact')) {
    const exact = num(d['exact']) ?? 0;
    return (x) => x === exact;
  }
  const range = obj(d['range']);
  if (range === undefined) {
    problems.add(path, 'one of exact, range is required');
    return () => false;
  }
  const start = num(range['start']) ?? 0;
  const end = num(range['end']) ?? 0;
  if (end < start) problems.add(field(path, 'range'), `end (${end}) is before start (${start})`);
  return (x) => typeof x === 'number' && x >= start && x < end;
}

export function metadataMatches(m: MetadataMatcher, lookup: MetadataLookup | undefined): boolean {
  let value: unknown = lookup?.(m.filter);
  for (const key of m.path) {
    const o = obj(value);
    value = o === undefined ? undefined : o[key];
  }
  return m.test(value) !== m.invert;
}
