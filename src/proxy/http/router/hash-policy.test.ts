import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileHashPolicies, cookieValue, hashString, mintedCookieValue, requestHash, setCookieValue, type CookieHashPolicy, type HashPolicy } from './hash-policy.ts';
import { Problems } from './proto.ts';
import { request } from './testing.ts';

function policies(protos: readonly Record<string, unknown>[]): readonly HashPolicy[] {
  const problems = new Problems();
  const out = compileHashPolicies(protos, 'hashPolicy', problems);
  assert.deepEqual(problems.list, []);
  return out;
}

describe('each kind of hash policy (what Istio\'s consistentHash keys become)', () => {
  it('header: same value, same hash; absent, no hash', () => {
    const p = policies([{ header: { headerName: 'x-user' } }]);
    assert.equal(requestHash(p, request({ headers: { 'x-user': 'alice' } })), hashString('alice'));
    assert.notEqual(requestHash(p, request({ headers: { 'x-user': 'alice' } })), requestHash(p, request({ headers: { 'x-user': 'bob' } })));
    assert.equal(requestHash(p, request({})), undefined);
  });

  it('header with several field lines: the same hash in any order (each rewritten, then sorted), as Envoy', () => {
    const p = policies([{ header: { headerName: 'x-user' } }]);
    const ab = requestHash(p, request({ headers: { 'x-user': ['alice', 'bob'] } }));
    assert.equal(ab, requestHash(p, request({ headers: { 'x-user': ['bob', 'alice'] } })));
    assert.notEqual(ab, requestHash(p, request({ headers: { 'x-user': ['alice', 'carol'] } })));
    // One field line is one value, commas and all: its parts are not reordered.
    assert.notEqual(requestHash(p, request({ headers: { 'x-user': 'alice,bob' } })), requestHash(p, request({ headers: { 'x-user': 'bob,alice' } })));
    // The rewrite applies to each line before the sort: "u-2"/"u-1" become "2"/"1" whatever their order.
    const r = policies([{ header: { headerName: 'x-user', regexRewrite: { pattern: { regex: '^u-' }, substitution: '' } } }]);
    assert.equal(requestHash(r, request({ headers: { 'x-user': ['u-2', 'u-1'] } })), requestHash(r, request({ headers: { 'x-user': ['u-1', 'u-2'] } })));
    assert.equal(requestHash(r, request({ headers: { 'x-user': ['u-2', 'u-1'] } })), hashString('12'));
  });

  it('query parameter and source IP', () => {
    const q = policies([{ queryParameter: { name: 'u' } }]);
    assert.equal(requestHash(q, request({ path: '/a?x=1&u=7' })), hashString('7'));
    assert.equal(requestHash(q, request({ path: '/a?x=1' })), undefined);
    const ip = policies([{ connectionProperties: { sourceIp: true } }]);
    assert.equal(requestHash(ip, request({ sourceAddress: '10.0.0.1' })), hashString('10.0.0.1'));
    assert.deepEqual(policies([{ connectionProperties: { sourceIp: false } }]), [], 'source_ip false hashes nothing');
  });

  it('cookie: a present cookie is hashed (quotes dropped) and nothing is minted', () => {
    const p = policies([{ cookie: { name: 'session', ttl: { seconds: 60 } } }]);
    let minted = 0;
    const hash = requestHash(p, request({ headers: { cookie: 'a=b; session="s1"' } }), () => { minted++; return 'x'; });
    assert.equal(hash, hashString('s1'));
    assert.equal(minted, 0);
  });

  it('cookie: found in any of several cookie fields, joined as HTTP/1.1 (",") or HTTP/2 ("; ") joins them', () => {
    assert.equal(cookieValue('a=1,sid="v1"', 'sid'), 'v1');
    assert.equal(cookieValue('a=1, sid=v2', 'sid'), 'v2');
    assert.equal(cookieValue('a=1; sid=v3', 'sid'), 'v3');
    assert.equal(cookieValue('a=1,b=2', 'sid'), undefined);
    assert.equal(cookieValue('sid2=x; xsid=z; sid = y ', 'sid'), 'y', 'a name that starts or ends another is not it');
    assert.equal(cookieValue('sid=; a=1', 'sid'), '');
    assert.equal(cookieValue('sid', 'sid'), undefined, 'a part without "=" is no cookie');
  });

  it('cookie with a ttl, absent or empty: minted once, and the minted value is what is hashed', () => {
    const p = policies([{ cookie: { name: 'session', ttl: { seconds: 3600 }, path: '/app', attributes: [{ name: 'SameSite', value: 'Lax' }, { name: 'Secure' }] } }]);
    for (const headers of [{}, { cookie: 'session=' }] as Record<string, string>[]) {
      const seen: CookieHashPolicy[] = [];
      const hash = requestHash(p, request({ headers }), (c) => { seen.push(c); return 'abc'; });
      assert.equal(hash, hashString('abc'));
      assert.equal(seen.length, 1);
      assert.equal(setCookieValue(seen[0]!, 'abc'), 'session="abc"; Max-Age=3600; Path=/app; SameSite=Lax; Secure; HttpOnly');
    }
  });

  it('cookie without a ttl: absent means no hash and nothing minted; a zero ttl mints a session cookie', () => {
    assert.equal(requestHash(policies([{ cookie: { name: 'session' } }]), request({}), () => assert.fail('must not mint')), undefined);
    const session = policies([{ cookie: { name: 's', ttl: {} } }])[0] as CookieHashPolicy;
    assert.equal(session.ttlMs, 0);
    assert.equal(setCookieValue(session, 'v'), 's="v"; HttpOnly');
  });

  it('a cookie attribute needs a name', () => {
    const problems = new Problems();
    compileHashPolicies([{ cookie: { name: 'c', attributes: [{ value: 'x' }] } }], 'hashPolicy', problems);
    assert.deepEqual(problems.list, ['hashPolicy[0].cookie.attributes[0].name: required']);
  });
});

it('a minted cookie value is 16 hex digits, the same for one connection and different for another', () => {
  const v = mintedCookieValue('10.0.0.1:40000', '10.0.0.2:15001');
  assert.match(v, /^[0-9a-f]{16}$/);
  assert.equal(mintedCookieValue('10.0.0.1:40000', '10.0.0.2:15001'), v);
  assert.notEqual(mintedCookieValue('10.0.0.1:40001', '10.0.0.2:15001'), v);
});
