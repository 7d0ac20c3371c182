/**
 * Every matcher kind Envoy's routes use: StringMatcher, HeaderMatcher (each specifier, the legacy ones,
 * presence, ranges, inversion, missing headers with and without treat_missing_header_as_empty),
 * QueryParameterMatcher and MetadataMatcher.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileHeaderMatcher, compileQueryParameterMatcher, compileStringMatcher, headerMatches, queryParameterMatches } from './matchers.ts';
import { compileMetadataMatcher, metadataMatches } from './metadata-matcher.ts';
import { Problems } from './proto.ts';
import { queryParameter } from './request.ts';

function ok<T>(compile: (v: unknown, path: string, p: Problems) => T, v: unknown): T {
  const p = new Problems();
  const out = compile(v, 'm', p);
  assert.deepEqual(p.list, []);
  return out;
}

const str = (m: unknown) => ok(compileStringMatcher, m);
const header = (m: Record<string, unknown>) => ok(compileHeaderMatcher, { name: 'x-h', ...m });

describe('StringMatcher', () => {
  it('exact, prefix, suffix, contains', () => {
    assert.equal(str({ exact: 'Abc' })('Abc'), true);
    assert.equal(str({ exact: 'Abc' })('abc'), false);
    assert.equal(str({ exact: '' })(''), true);
    assert.equal(str({ exact: '' })('a'), false);
    assert.equal(str({ prefix: 'ab' })('abc'), true);
    assert.equal(str({ prefix: 'ab' })('xabc'), false);
    assert.equal(str({ suffix: 'bc' })('abc'), true);
    assert.equal(str({ suffix: 'bc' })('bcx'), false);
    assert.equal(str({ contains: 'b' })('abc'), true);
    assert.equal(str({ contains: 'z' })('abc'), false);
  });

  it('ignore_case folds ASCII letters only', () => {
    assert.equal(str({ exact: 'ABC', ignoreCase: true })('abc'), true);
    assert.equal(str({ prefix: 'AB', ignoreCase: true })('abc'), true);
    assert.equal(str({ suffix: 'BC', ignoreCase: true })('abc'), true);
    assert.equal(str({ contains: 'B', ignoreCase: true })('abc'), true);
    assert.equal(str({ exact: 'É', ignoreCase: true })('é'), false, 'absl folds ASCII only');
  });

  it('safe_regex must match the whole value, in RE2 syntax, and ignores ignore_case', () => {
    assert.equal(str({ safeRegex: { regex: 'a.' } })('abc'), false);
    assert.equal(str({ safeRegex: { regex: 'a.*' } })('abc'), true);
    assert.equal(str({ safeRegex: { regex: '(?P<x>a)bc' } })('abc'), true);
    assert.equal(str({ safeRegex: { regex: 'ABC' }, ignoreCase: true })('abc'), false);
  });

  it('reports invalid RE2 (lookahead, backreferences) and missing patterns with their paths', () => {
    const p = new Problems();
    compileStringMatcher({ safeRegex: { regex: 'a(?=b)' } }, 's', p);
    compileStringMatcher({ safeRegex: { regex: '(a)\\1' } }, 't', p);
    compileStringMatcher({ prefix: '' }, 'u', p);
    compileStringMatcher({}, 'v', p);
    assert.equal(p.list.length, 4);
    assert.match(p.list[0]!, /^s\.safeRegex\.regex: invalid RE2 regex "a\(\?=b\)"/);
    assert.match(p.list[1]!, /^t\.safeRegex\.regex: invalid RE2 regex/);
    assert.equal(p.list[2], 'u.prefix: must not be empty');
    assert.match(p.list[3]!, /^v: one of exact, prefix/);
  });
});

describe('HeaderMatcher', () => {
  it('string_match and every legacy specifier against a present value', () => {
    assert.equal(headerMatches(header({ stringMatch: { exact: 'v' } }), 'v'), true);
    assert.equal(headerMatches(header({ stringMatch: { exact: 'v' } }), 'w'), false);
    assert.equal(headerMatches(header({ exactMatch: 'v' }), 'v'), true);
    assert.equal(headerMatches(header({ exactMatch: 'v' }), 'w'), false);
    assert.equal(headerMatches(header({ exactMatch: '' }), 'anything'), true, 'legacy exact "" matches any present value');
    assert.equal(headerMatches(header({ safeRegexMatch: { regex: '[0-9]+' } }), '123'), true);
    assert.equal(headerMatches(header({ safeRegexMatch: { regex: '[0-9]+' } }), '123a'), false);
    assert.equal(headerMatches(header({ prefixMatch: 'ab' }), 'abc'), true);
    assert.equal(headerMatches(header({ suffixMatch: 'bc' }), 'abc'), true);
    assert.equal(headerMatches(header({ containsMatch: 'b' }), 'abc'), true);
    assert.equal(headerMatches(header({ containsMatch: 'z' }), 'abc'), false);
  });

  it('range_match: a half-open int64 range over a decimal value', () => {
    const m = header({ rangeMatch: { start: -10, end: 10 } });
    assert.equal(headerMatches(m, '-10'), true);
    assert.equal(headerMatches(m, '9'), true);
    assert.equal(headerMatches(m, '10'), false);
    assert.equal(headerMatches(m, ' 5 '), true, 'absl::SimpleAtoi allows surrounding whitespace');
    assert.equal(headerMatches(m, '+5'), true);
    assert.equal(headerMatches(m, '5.0'), false);
    assert.equal(headerMatches(m, 'five'), false);
    assert.equal(headerMatches(m, ''), false);
    const big = header({ rangeMatch: { start: '9007199254740993', end: '9223372036854775807' } });
    assert.equal(headerMatches(big, '9007199254740995'), true);
    assert.equal(headerMatches(big, '99999999999999999999'), false, 'beyond int64');
  });

  it('presence: present_match true/false, and no specifier at all means "present"', () => {
    assert.equal(headerMatches(header({ presentMatch: true }), ''), true);
    assert.equal(headerMatches(header({ presentMatch: true }), undefined), false);
    assert.equal(headerMatches(header({ presentMatch: false }), undefined), true);
    assert.equal(headerMatches(header({ presentMatch: false }), 'x'), false);
    assert.equal(headerMatches(header({}), 'x'), true);
    assert.equal(headerMatches(header({}), undefined), false);
  });

  it('invert_match flips a verdict on a present value', () => {
    assert.equal(headerMatches(header({ stringMatch: { exact: 'v' }, invertMatch: true }), 'v'), false);
    assert.equal(headerMatches(header({ stringMatch: { exact: 'v' }, invertMatch: true }), 'w'), true);
    assert.equal(headerMatches(header({ presentMatch: true, invertMatch: true }), 'x'), false);
    assert.equal(headerMatches(header({ presentMatch: false, invertMatch: true }), 'x'), true);
  });

  it('a missing header fails every value matcher, inverted or not; inverted presence asks for presence', () => {
    for (const spec of [{ stringMatch: { exact: 'v' } }, { exactMatch: 'v' }, { prefixMatch: 'a' }, { rangeMatch: { start: 0, end: 9 } }, { safeRegexMatch: { regex: '.*' } }]) {
      assert.equal(headerMatches(header(spec), undefined), false, JSON.stringify(spec));
      assert.equal(headerMatches(header({ ...spec, invertMatch: true }), undefined), false, `inverted ${JSON.stringify(spec)}`);
    }
    assert.equal(headerMatches(header({ presentMatch: true, invertMatch: true }), undefined), true);
    assert.equal(headerMatches(header({ presentMatch: false, invertMatch: true }), undefined), false);
  });

  it('treat_missing_header_as_empty matches a missing header as the empty string', () => {
    const t = { treatMissingHeaderAsEmpty: true };
    assert.equal(headerMatches(header({ ...t, stringMatch: { exact: '' } }), undefined), true);
    assert.equal(headerMatches(header({ ...t, stringMatch: { exact: 'v' } }), undefined), false);
    assert.equal(headerMatches(header({ ...t, stringMatch: { exact: 'v' }, invertMatch: true }), undefined), true);
    assert.equal(headerMatches(header({ ...t, safeRegexMatch: { regex: '.*' } }), undefined), true);
    assert.equal(headerMatches(header({ ...t, presentMatch: true }), undefined), true);
  });

  it('names are lower-cased; pseudo-headers are recognized; bad names are reported', () => {
    assert.equal(ok(compileHeaderMatcher, { name: 'X-Upper' }).name, 'x-upper');
    assert.equal(ok(compileHeaderMatcher, { name: ':method' }).source, ':method');
    assert.equal(ok(compileHeaderMatcher, { name: ':Authority' }).source, ':authority');
    const p = new Problems();
    compileHeaderMatcher({ name: '' }, 'h', p);
    compileHeaderMatcher({ name: 'a\nb' }, 'i', p);
    compileHeaderMatcher({ name: 'x', prefixMatch: '' }, 'j', p);
    assert.deepEqual(p.list, ['h.name: header name required', 'i.name: invalid header name "a\\nb" (NUL, CR or LF)', 'j.prefixMatch: must not be empty']);
  });
});

describe('QueryParameterMatcher', () => {
  const path = '/p?a=1&b=&flag&a=2&enc=%41&c=x=y';
  it('reads query parameters as Envoy: first value wins, no percent-decoding, a bare name is ""', () => {
    assert.equal(queryParameter(path, 'a'), '1');
    assert.equal(queryParameter(path, 'b'), '');
    assert.equal(queryParameter(path, 'flag'), '');
    assert.equal(queryParameter(path, 'enc'), '%41');
    assert.equal(queryParameter(path, 'c'), 'x=y');
    assert.equal(queryParameter(path, 'fla'), undefined);
    assert.equal(queryParameter('/p', 'a'), undefined);
  });

  it('string_match and present_match need the parameter to be there', () => {
    const exact = ok(compileQueryParameterMatcher, { name: 'a', stringMatch: { exact: '1' } });
    assert.equal(queryParameterMatches(exact, '1'), true);
    assert.equal(queryParameterMatches(exact, '2'), false);
    assert.equal(queryParameterMatches(exact, undefined), false);
    const present = ok(compileQueryParameterMatcher, { name: 'flag', presentMatch: true });
    assert.equal(queryParameterMatches(present, ''), true);
    assert.equal(queryParameterMatches(present, undefined), false);
  });
});

describe('MetadataMatcher', () => {
  const md = { 'istio_authn': { 'request.auth.claims': { groups: ['admin', 'dev'], sub: 'alice', n: 3, ok: true, none: null } } };
  const lookup = (f: string) => (md as Record<string, unknown>)[f];
  const m = (path: string[], value: Record<string, unknown>, invert = false) =>
    ok(compileMetadataMatcher, { filter: 'istio_authn', path: path.map((key) => ({ key })), value, invert });
  const claims = (k: string) => ['request.auth.claims', k];

  it('walks the path and matches strings, lists, numbers, bools, null and presence', () => {
    assert.equal(metadataMatches(m(claims('sub'), { stringMatch: { exact: 'alice' } }), lookup), true);
    assert.equal(metadataMatches(m(claims('groups'), { listMatch: { oneOf: { stringMatch: { exact: 'dev' } } } }), lookup), true);
    assert.equal(metadataMatches(m(claims('groups'), { listMatch: { oneOf: { stringMatch: { exact: 'ops' } } } }), lookup), false);
    assert.equal(metadataMatches(m(claims('n'), { doubleMatch: { range: { start: 1, end: 5 } } }), lookup), true);
    assert.equal(metadataMatches(m(claims('n'), { doubleMatch: { exact: 4 } }), lookup), false);
    assert.equal(metadataMatches(m(claims('ok'), { boolMatch: true }), lookup), true);
    assert.equal(metadataMatches(m(claims('none'), { nullMatch: {} }), lookup), true);
    assert.equal(metadataMatches(m(claims('missing'), { nullMatch: {} }), lookup), false);
    assert.equal(metadataMatches(m(claims('missing'), { presentMatch: false }), lookup), true);
    assert.equal(metadataMatches(m(claims('sub'), { orMatch: { valueMatchers: [{ boolMatch: true }, { stringMatch: { prefix: 'al' } }] } }), lookup), true);
  });

  it('invert flips; absent metadata is an unset value', () => {
    assert.equal(metadataMatches(m(claims('sub'), { stringMatch: { exact: 'alice' } }, true), lookup), false);
    assert.equal(metadataMatches(m(claims('sub'), { stringMatch: { exact: 'alice' } }), undefined), false);
    assert.equal(metadataMatches(m(claims('sub'), { stringMatch: { exact: 'alice' } }, true), undefined), true);
  });

  it('reports a missing filter, path and value', () => {
    const p = new Problems();
    compileMetadataMatcher({}, 'd', p);
    assert.deepEqual(p.list, ['d.filter: required', 'd.path: at least one segment required', 'd.value: required', 'd.value: one of nullMatch, doubleMatch, stringMatch, boolMatch, presentMatch, listMatch, orMatch is required']);
  });
});
