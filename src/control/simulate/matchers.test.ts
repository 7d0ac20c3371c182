import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerMatches, parseQuery, queryParamMatches, stringMatches } from './matchers.ts';
import { routeMatches, type RouteRequest } from './route-match.ts';

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n.toLowerCase()] });

test('StringMatcher: exact, prefix, suffix, contains, ignore_case and whole-value RE2', () => {
  assert.equal(stringMatches({ exact: 'Abc' }, 'abc'), false);
  assert.equal(stringMatches({ exact: 'Abc', ignoreCase: true }, 'abc'), true);
  assert.equal(stringMatches({ prefix: 'ab' }, 'abc'), true);
  assert.equal(stringMatches({ suffix: 'bc' }, 'abc'), true);
  assert.equal(stringMatches({ contains: 'b' }, 'abc'), true);
  assert.equal(stringMatches({ safeRegex: { regex: 'a.' } }, 'abc'), false);
  assert.equal(stringMatches({ safeRegex: { regex: 'a.*' } }, 'abc'), true);
  assert.equal(stringMatches({ safeRegex: { regex: '(?P<x>a)bc' } }, 'abc'), true, 'RE2 syntax');
  assert.equal(stringMatches({}, 'abc'), false);
});

test('HeaderMatcher: a missing header fails value matchers, even inverted, unless treated as empty', () => {
  const none = headers({});
  assert.equal(headerMatches({ name: 'x', stringMatch: { exact: '1' } }, none), false);
  assert.equal(headerMatches({ name: 'x', stringMatch: { exact: '1' }, invertMatch: true }, none), false);
  assert.equal(headerMatches({ name: 'x', stringMatch: { exact: '1' }, invertMatch: true, treatMissingHeaderAsEmpty: true }, none), true);
  assert.equal(headerMatches({ name: 'x', stringMatch: { exact: '' }, treatMissingHeaderAsEmpty: true }, none), true);
});

test('HeaderMatcher: presence, absence, inversion, ranges and legacy specifiers', () => {
  const h = headers({ x: '1', n: '42' });
  assert.equal(headerMatches({ name: 'x', presentMatch: true }, h), true);
  assert.equal(headerMatches({ name: 'y', presentMatch: true }, h), false);
  assert.equal(headerMatches({ name: 'y', presentMatch: true, invertMatch: true }, h), true);
  assert.equal(headerMatches({ name: 'x', presentMatch: true, invertMatch: true }, h), false);
  assert.equal(headerMatches({ name: 'y', presentMatch: false }, h), true);
  assert.equal(headerMatches({ name: 'x' }, h), true, 'no specifier checks presence');
  assert.equal(headerMatches({ name: 'n', rangeMatch: { start: 40, end: 43 } }, h), true);
  assert.equal(headerMatches({ name: 'n', rangeMatch: { start: 40, end: 42 } }, h), false);
  assert.equal(headerMatches({ name: 'X', exactMatch: '1' }, h), true);
  assert.equal(headerMatches({ name: 'x', stringMatch: { exact: '1' }, invertMatch: true }, h), false);
});

test('query parameters: decoded, first value wins, presence required', () => {
  const q = parseQuery('/p?a=1&a=2&b&c=%2Fx#frag');
  assert.deepEqual([...q], [['a', '1'], ['b', ''], ['c', '/x']]);
  assert.equal(queryParamMatches({ name: 'a', stringMatch: { exact: '1' } }, q), true);
  assert.equal(queryParamMatches({ name: 'b', presentMatch: true }, q), true);
  assert.equal(queryParamMatches({ name: 'c', stringMatch: { prefix: '/' } }, q), true);
  assert.equal(queryParamMatches({ name: 'd', presentMatch: true }, q), false);
});

test('route match: query strings are not part of the path; case sensitivity; metadata is absent', () => {
  const req = (path: string, method = 'GET'): RouteRequest => ({ method, path, headers: headers({}), query: parseQuery(path) });
  assert.equal(routeMatches({ path: '/a' }, req('/a?x=1')), true);
  assert.equal(routeMatches({ path: '/A' }, req('/a')), false);
  assert.equal(routeMatches({ path: '/A', caseSensitive: { value: false } }, req('/a')), true);
  assert.equal(routeMatches({ prefix: '/' }, req('/', 'CONNECT')), false);
  assert.equal(routeMatches({ prefix: '/', dynamicMetadata: [{ filter: 'f' }] }, req('/')), false);
  assert.equal(routeMatches({ prefix: '/', dynamicMetadata: [{ filter: 'f', invert: true }] }, req('/')), true);
  assert.equal(routeMatches({ prefix: '/', grpc: {} }, req('/')), false);
  assert.equal(routeMatches({}, req('/')), false);
});
