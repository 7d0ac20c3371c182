import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stats } from '../../core/stats.ts';
import { STOP } from '../filter.ts';
import type { ResponseHead } from '../filter-stream.ts';
import { corsFilterFactory, originAllowed, parseCorsPolicy, type CorsPolicy } from './cors.ts';
import { fakeStream } from './testing.ts';

const NAME = 'envoy.filters.http.cors';

function policy(p: Record<string, unknown>): CorsPolicy {
  const parsed = parseCorsPolicy(p, '');
  assert.deepEqual(parsed.problems, []);
  return parsed.config;
}

function filter(stats = new Stats()) {
  return corsFilterFactory.prepare(null, { name: NAME, statPrefix: 'http.t.', stats })();
}

describe('CORS filter', () => {
  it('parses CorsPolicy, reporting bad values', () => {
    const bad = parseCorsPolicy({ allowOriginStringMatch: [{ safeRegex: { regex: '(' } }], maxAge: 'ten' }, '');
    assert.equal(bad.problems.length, 2);
    assert.match(bad.problems[0]!, /^allowOriginStringMatch\[0\]\.safeRegex\.regex: invalid RE2 regex/);
    assert.equal(bad.problems[1], 'maxAge: must be a number of seconds (got "ten")');
  });

  it('matches origins; an exact "*" allows all', () => {
    const p = policy({ allowOriginStringMatch: [{ prefix: 'https://' }] });
    assert.equal(originAllowed(p, 'https://a'), true);
    assert.equal(originAllowed(p, 'http://a'), false);
    assert.equal(originAllowed(policy({ allowOriginStringMatch: [{ exact: '*' }] }), 'http://anything'), true);
    assert.equal(originAllowed(policy({}), 'http://a'), false);
  });

  it('answers preflights for allowed origins', () => {
    const s = fakeStream({ method: 'OPTIONS', headers: { origin: 'https://a', 'access-control-request-method': 'PUT', 'access-control-request-private-network': 'true' }, perRoute: { [NAME]: policy({ allowOriginStringMatch: [{ exact: 'https://a' }], allowMethods: 'PUT', allowPrivateNetworkAccess: { value: true } }) } });
    assert.equal(filter().decodeHeaders!(s), STOP);
    assert.equal(s.replies[0]?.status, 200);
    assert.deepEqual(s.replies[0]?.headers, { 'access-control-allow-origin': 'https://a', 'access-control-allow-methods': 'PUT', 'access-control-allow-private-network': 'true' });
  });

  it('forwards preflights from other origins unless told otherwise', () => {
    const p = { [NAME]: policy({ allowOriginStringMatch: [{ exact: 'https://a' }] }) };
    const s = fakeStream({ method: 'OPTIONS', headers: { origin: 'https://b', 'access-control-request-method': 'PUT' }, perRoute: p });
    assert.equal(filter().decodeHeaders!(s), undefined);
    const strict = { [NAME]: policy({ allowOriginStringMatch: [{ exact: 'https://a' }], forwardNotMatchingPreflights: { value: false } }) };
    const s2 = fakeStream({ method: 'OPTIONS', headers: { origin: 'https://b', 'access-control-request-method': 'PUT' }, perRoute: strict });
    assert.equal(filter().decodeHeaders!(s2), STOP);
    assert.deepEqual(s2.replies[0]?.headers, undefined);
  });

  it('adds response headers for allowed cross-origin requests only', () => {
    const stats = new Stats();
    const p = { [NAME]: policy({ allowOriginStringMatch: [{ exact: 'https://a' }], exposeHeaders: 'x-e', allowCredentials: { value: true } }) };
    const f = filter(stats);
    const s = fakeStream({ headers: { origin: 'https://a' }, perRoute: p });
    f.decodeHeaders!(s);
    const head: ResponseHead = { status: 200, headers: {} };
    f.encodeHeaders!(s, head);
    assert.deepEqual(head.headers, { 'access-control-allow-origin': 'https://a', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-e' });
    const g = filter(stats);
    const other = fakeStream({ headers: { origin: 'https://b' }, perRoute: p });
    g.decodeHeaders!(other);
    const head2: ResponseHead = { status: 200, headers: {} };
    g.encodeHeaders!(other, head2);
    assert.deepEqual(head2.headers, {});
    assert.equal(stats.counter('http.t.cors.origin_valid').value, 1);
    assert.equal(stats.counter('http.t.cors.origin_invalid').value, 1);
  });

  it('does nothing without a policy, without Origin, or when disabled', () => {
    assert.equal(filter().decodeHeaders!(fakeStream({ headers: { origin: 'https://a' } })), undefined);
    const p = { [NAME]: policy({ allowOriginStringMatch: [{ exact: 'https://a' }], filterEnabled: { defaultValue: { numerator: 0 } } }) };
    const s = fakeStream({ method: 'OPTIONS', headers: { origin: 'https://a', 'access-control-request-method': 'PUT' }, perRoute: p });
    assert.equal(filter().decodeHeaders!(s), undefined);
    assert.equal(s.replies.length, 0);
  });
});
